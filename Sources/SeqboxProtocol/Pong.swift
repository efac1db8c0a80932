extension Frame {
    /// PONG: the server's answer to PING (PROTOCOL.md §5.16). Body: nonce u64.
    public struct Pong: Hashable, Sendable {
        /// The PING's nonce.
        public var nonce: UInt64

        public init(nonce: UInt64) { self.nonce = nonce }
    }
}

extension Frame.Pong: FramePayload {
    static var frameType: FrameType { .pong }
    var bodySize: Int { ProtocolConstants.pingBodySize }
    func encode(into bytes: inout [UInt8]) { bytes.appendLittleEndian(nonce) }
    init(reading reader: inout WireReader) throws(ProtocolError) { nonce = try reader.read() }
}
