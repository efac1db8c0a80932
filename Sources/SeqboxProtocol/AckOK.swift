extension Frame {
    /// ACK_OK: the device cursor is durable (PROTOCOL.md §5.12). Body: seq u32.
    public struct AckOK: Hashable, Sendable {
        /// The device's cursor after the ACK: the larger of the old cursor and the ACK's seq.
        public var seq: UInt32

        public init(seq: UInt32) { self.seq = seq }
    }
}

extension Frame.AckOK: FramePayload {
    static var frameType: FrameType { .ackOK }
    var bodySize: Int { ProtocolConstants.ackOKBodySize }
    func encode(into bytes: inout [UInt8]) { bytes.appendLittleEndian(seq) }
    init(reading reader: inout WireReader) throws(ProtocolError) { seq = try reader.read() }
}
