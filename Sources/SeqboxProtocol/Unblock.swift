extension Frame {
    /// UNBLOCK: accept messages from a user again (PROTOCOL.md §5.14). Body: user u64.
    public struct Unblock: Hashable, Sendable {
        /// The user to unblock.
        public var user: UInt64

        public init(user: UInt64) { self.user = user }
    }
}

extension Frame.Unblock: FramePayload {
    static var frameType: FrameType { .unblock }
    var bodySize: Int { ProtocolConstants.blockBodySize }
    func encode(into bytes: inout [UInt8]) { bytes.appendLittleEndian(user) }
    init(reading reader: inout WireReader) throws(ProtocolError) { user = try reader.read() }
}
