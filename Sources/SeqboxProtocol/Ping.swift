extension Frame {
    /// PING: a heartbeat from the client (PROTOCOL.md §5.16). Body: nonce u64.
    public struct Ping: Hashable, Sendable {
        /// Any value; PONG echoes it.
        public var nonce: UInt64

        public init(nonce: UInt64) { self.nonce = nonce }
    }
}

extension Frame.Ping: FramePayload {
    static var frameType: FrameType { .ping }
    var bodySize: Int { ProtocolConstants.pingBodySize }
    func encode(into bytes: inout [UInt8]) { bytes.appendLittleEndian(nonce) }
    init(reading reader: inout WireReader) throws(ProtocolError) { nonce = try reader.read() }
}
