/// One named counter of a STORE_STATS_OK (PROTOCOL.md §14.13). Layout: nameLength u8 | name |
/// value u64.
public struct StoreStatistic: Hashable, Sendable {
    /// The counter's name: 1...`ProtocolConstants.storeStatisticNameSizeMax` characters, each
    /// of `a`–`z`, `0`–`9`, `_` (so it can name a metric as is).
    public var name: String
    /// The counter's value.
    public var value: UInt64

    public init(name: String, value: UInt64) {
        self.name = name
        self.value = value
    }

    /// Whether `name` is a valid statistic name.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = name.utf8
        return !bytes.isEmpty && bytes.count <= ProtocolConstants.storeStatisticNameSizeMax
            && bytes.allSatisfy(isNameByte)
    }

    /// Bytes this statistic takes in a STORE_STATS_OK.
    public var encodedSize: Int { ProtocolConstants.storeStatisticFixedSize + name.utf8.count }

    /// `a`–`z`, `0`–`9` or `_`.
    static func isNameByte(_ byte: UInt8) -> Bool {
        (0x61 ... 0x7A).contains(byte) || (0x30 ... 0x39).contains(byte) || byte == 0x5F
    }

    /// Throws what a decoder would throw for this statistic at frame offset `offset`.
    func validate(at offset: Int) throws(ProtocolError) {
        let size = name.utf8.count
        let max = ProtocolConstants.storeStatisticNameSizeMax
        guard size > 0 else { throw ProtocolError(.invalidValue(offset: offset), frameType: .storeStatsOK) }
        guard size <= max else { throw ProtocolError(.fieldTooLarge(length: size, limit: max), frameType: .storeStatsOK) }
        guard name.utf8.allSatisfy(Self.isNameByte) else {
            throw ProtocolError(.invalidValue(offset: offset + 1), frameType: .storeStatsOK)
        }
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLength(name.utf8.count, as: UInt8.self)
        bytes.append(contentsOf: name.utf8)
        bytes.appendLittleEndian(value)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        let lengthOffset = reader.frameOffset
        let length = Int(try reader.read(UInt8.self))
        guard length > 0 else { throw reader.error(.invalidValue(offset: lengthOffset)) }
        let max = ProtocolConstants.storeStatisticNameSizeMax
        guard length <= max else { throw reader.error(.fieldTooLarge(length: length, limit: max)) }
        let nameOffset = reader.frameOffset
        let raw = try reader.readBytes(count: length)
        guard raw.allSatisfy(Self.isNameByte) else { throw reader.error(.invalidValue(offset: nameOffset)) }
        name = String(decoding: raw, as: UTF8.self)
        value = try reader.read()
    }
}
