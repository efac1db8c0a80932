import SeqboxProtocol

/// The bytes of a client state file, little-endian:
///
/// ```
/// magic u32 ("SQBC") | version u16 | reserved u16 |
/// user u64 | device u64 | epoch u32 | heldSeq u32 | nextClientMessageID u64 |
/// outboxCount u32 | outboxCount × (clientMessageID u64 | recipient u64 | bodyLength u32 | body) |
/// crc32 u32 (over every byte before it)
/// ```
public enum ClientStateCodec {
    /// The bytes `53 51 42 43`, ASCII "SQBC", read as a little-endian u32.
    public static let magic: UInt32 = 0x4342_5153
    /// The layout version this code writes and reads.
    public static let version: UInt16 = 1
    /// Bytes before the outbox entries.
    static let fixedSize = 4 + 2 + 2 + 8 + 8 + 4 + 4 + 8 + 4
    /// Bytes of one outbox entry before its body.
    static let entryFixedSize = 8 + 8 + 4
    /// Bytes of the trailing checksum.
    static let checksumSize = 4
    /// Most outbox entries a state file may hold (a bound for the reader, far above any outbox).
    public static let outboxCountMax = 1 << 20

    /// Why bytes are not a state file.
    public struct DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The file's bytes for `state`.
    public static func encode(_ state: ClientState) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fixedSize + checksumSize + state.outbox.reduce(0) { $0 + entryFixedSize + $1.body.count })
        append(magic, to: &bytes)
        append(version, to: &bytes)
        append(UInt16(0), to: &bytes)
        append(state.user, to: &bytes)
        append(state.device, to: &bytes)
        append(state.epoch, to: &bytes)
        append(state.heldSeq, to: &bytes)
        append(state.nextClientMessageID, to: &bytes)
        append(UInt32(state.outbox.count), to: &bytes)
        for entry in state.outbox {
            append(entry.clientMessageID, to: &bytes)
            append(entry.recipient, to: &bytes)
            append(UInt32(entry.body.count), to: &bytes)
            bytes.append(contentsOf: entry.body)
        }
        append(CRC32.checksum(bytes), to: &bytes)
        return bytes
    }

    /// The state in `bytes`, checked: magic, version, checksum, bounds, no trailing bytes.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> ClientState {
        guard bytes.count >= fixedSize + checksumSize else { throw DecodeError(description: "too short (\(bytes.count) bytes)") }
        let body = bytes[..<(bytes.count - checksumSize)]
        var reader = Reader(bytes: bytes, offset: body.endIndex)
        let stored = try reader.read(UInt32.self)
        guard stored == CRC32.checksum(body) else { throw DecodeError(description: "checksum mismatch") }
        reader = Reader(bytes: Array(body), offset: 0)
        guard try reader.read(UInt32.self) == magic else { throw DecodeError(description: "wrong magic") }
        let foundVersion = try reader.read(UInt16.self)
        guard foundVersion == version else { throw DecodeError(description: "unknown version \(foundVersion)") }
        guard try reader.read(UInt16.self) == 0 else { throw DecodeError(description: "reserved field not zero") }
        let user = try reader.read(UInt64.self)
        let device = try reader.read(UInt64.self)
        var state = ClientState(user: user, device: device, firstClientMessageID: 1)
        state.epoch = try reader.read()
        state.heldSeq = try reader.read()
        state.nextClientMessageID = try reader.read()
        let count = Int(try reader.read(UInt32.self))
        guard count <= outboxCountMax else { throw DecodeError(description: "outbox count \(count) above \(outboxCountMax)") }
        for _ in 0 ..< count {
            let id = try reader.read(UInt64.self)
            let recipient = try reader.read(UInt64.self)
            let length = Int(try reader.read(UInt32.self))
            guard length <= ProtocolConstants.messageBodySizeMax else {
                throw DecodeError(description: "outbox body of \(length) bytes")
            }
            state.outbox.append(OutboxEntry(clientMessageID: id, recipient: recipient, body: try reader.read(count: length)))
        }
        guard reader.offset == reader.bytes.count else { throw DecodeError(description: "trailing bytes") }
        return state
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A bounds-checked little-endian reader.
    private struct Reader {
        let bytes: [UInt8]
        var offset: Int

        mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(DecodeError) -> T {
            let size = MemoryLayout<T>.size
            guard bytes.count - offset >= size else { throw DecodeError(description: "truncated") }
            var value: T = 0
            for index in 0 ..< size { value |= T(bytes[offset + index]) << (8 * index) }
            offset += size
            return value
        }

        mutating func read(count: Int) throws(DecodeError) -> [UInt8] {
            guard bytes.count - offset >= count else { throw DecodeError(description: "truncated") }
            defer { offset += count }
            return Array(bytes[offset ..< offset + count])
        }
    }
}
