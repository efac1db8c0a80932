/// Where one message of a stored STORE_APPEND group landed (PROTOCOL.md §14.4). Layout:
/// seq u32 | flags u8 (bit 0 duplicate) | reserved u8 | reserved u16 | epoch u32 | timestampMs u64.
public struct StoreCopy: Hashable, Sendable {
    /// The message's seq in its mailbox.
    public var seq: UInt32
    /// The message had been stored before: nothing new was written and the fields are the
    /// original record's.
    public var duplicate: Bool
    /// The mailbox's epoch.
    public var epoch: UInt32
    /// The stored record's timestamp, in Unix milliseconds (the original one for a duplicate).
    public var timestampMs: UInt64

    public init(seq: UInt32, duplicate: Bool, epoch: UInt32, timestampMs: UInt64) {
        self.seq = seq
        self.duplicate = duplicate
        self.epoch = epoch
        self.timestampMs = timestampMs
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(seq)
        bytes.appendLittleEndian(duplicate ? ProtocolConstants.storeCopyFlagDuplicate : 0)
        bytes.appendLittleEndian(UInt8(0))
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(epoch)
        bytes.appendLittleEndian(timestampMs)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        seq = try reader.read()
        let flags = try reader.readFlags(known: ProtocolConstants.storeCopyFlagDuplicate)
        duplicate = flags & ProtocolConstants.storeCopyFlagDuplicate != 0
        try reader.readReserved(UInt8.self)
        try reader.readReserved(UInt16.self)
        epoch = try reader.read()
        timestampMs = try reader.read()
    }
}
