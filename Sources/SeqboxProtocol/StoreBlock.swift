extension Frame {
    /// STORE_BLOCK: `user` blocks or unblocks `other` (PROTOCOL.md §14.8). Answered with
    /// BLOCK_OK(user: other, blocked:) or ERROR. Body: user u64 | other u64 |
    /// flags u8 (bit 0 blocked) | reserved u8 | reserved u16.
    public struct StoreBlock: Hashable, Sendable {
        /// The user whose blocklist changes.
        public var user: UInt64
        /// The user blocked or unblocked.
        public var other: UInt64
        /// Block (true) or unblock (false).
        public var blocked: Bool

        public init(user: UInt64, other: UInt64, blocked: Bool) {
            self.user = user
            self.other = other
            self.blocked = blocked
        }
    }
}

extension Frame.StoreBlock: FramePayload {
    static var frameType: FrameType { .storeBlock }
    var bodySize: Int { ProtocolConstants.storeBlockBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(user)
        bytes.appendLittleEndian(other)
        bytes.appendLittleEndian(blocked ? ProtocolConstants.storeBlockFlagBlocked : 0)
        bytes.appendLittleEndian(UInt8(0))
        bytes.appendLittleEndian(UInt16(0))
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        user = try reader.read()
        other = try reader.read()
        let flags = try reader.readFlags(known: ProtocolConstants.storeBlockFlagBlocked)
        blocked = flags & ProtocolConstants.storeBlockFlagBlocked != 0
        try reader.readReserved(UInt8.self)
        try reader.readReserved(UInt16.self)
    }
}
