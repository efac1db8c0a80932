extension Frame {
    /// BLOCK_OK: the answer to BLOCK and UNBLOCK, once the change is durable
    /// (PROTOCOL.md §5.15). Body: user u64 | flags u8 (bit 0 blocked) | reserved u8 | reserved u16.
    public struct BlockOK: Hashable, Sendable {
        /// The user the request named.
        public var user: UInt64
        /// Whether that user is blocked now.
        public var blocked: Bool

        public init(user: UInt64, blocked: Bool) {
            self.user = user
            self.blocked = blocked
        }
    }
}

extension Frame.BlockOK: FramePayload {
    static var frameType: FrameType { .blockOK }
    var bodySize: Int { ProtocolConstants.blockOKBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(user)
        bytes.appendLittleEndian(blocked ? ProtocolConstants.blockOKFlagBlocked : 0)
        bytes.appendLittleEndian(UInt8(0))
        bytes.appendLittleEndian(UInt16(0))
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        user = try reader.read()
        let flags = try reader.readFlags(known: ProtocolConstants.blockOKFlagBlocked)
        blocked = flags & ProtocolConstants.blockOKFlagBlocked != 0
        try reader.readReserved(UInt8.self)
        try reader.readReserved(UInt16.self)
    }
}
