extension Frame {
    /// BLOCK: refuse messages from a user from now on (PROTOCOL.md §5.13). Body: user u64.
    public struct Block: Hashable, Sendable {
        /// The user to block.
        public var user: UInt64

        public init(user: UInt64) { self.user = user }
    }
}

extension Frame.Block: FramePayload {
    static var frameType: FrameType { .block }
    var bodySize: Int { ProtocolConstants.blockBodySize }
    func encode(into bytes: inout [UInt8]) { bytes.appendLittleEndian(user) }
    init(reading reader: inout WireReader) throws(ProtocolError) { user = try reader.read() }
}
