extension Frame {
    /// ACK: this device holds every record up to `seq` (PROTOCOL.md §5.11). Body: seq u32.
    public struct Ack: Hashable, Sendable {
        /// The highest seq the device holds durably; its cursor never moves back.
        public var seq: UInt32

        public init(seq: UInt32) { self.seq = seq }
    }
}

extension Frame.Ack: FramePayload {
    static var frameType: FrameType { .ack }
    var bodySize: Int { ProtocolConstants.ackBodySize }
    func encode(into bytes: inout [UInt8]) { bytes.appendLittleEndian(seq) }
    init(reading reader: inout WireReader) throws(ProtocolError) { seq = try reader.read() }
}
