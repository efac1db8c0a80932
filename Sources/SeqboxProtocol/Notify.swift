extension Frame {
    /// NOTIFY: the mailbox has records up to `newestSeq`; pull what you miss
    /// (PROTOCOL.md §5.10). Sent unsolicited, request ID 0. Body: newestSeq u32 | epoch u32.
    public struct Notify: Hashable, Sendable {
        /// The mailbox's newest durable seq.
        public var newestSeq: UInt32
        /// The mailbox's epoch.
        public var epoch: UInt32

        public init(newestSeq: UInt32, epoch: UInt32) {
            self.newestSeq = newestSeq
            self.epoch = epoch
        }
    }
}

extension Frame.Notify: FramePayload {
    static var frameType: FrameType { .notify }
    var bodySize: Int { ProtocolConstants.notifyBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(newestSeq)
        bytes.appendLittleEndian(epoch)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        newestSeq = try reader.read()
        epoch = try reader.read()
    }
}
