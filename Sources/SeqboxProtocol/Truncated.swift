extension Frame {
    /// TRUNCATED: the answer to a PULL whose range the server can no longer serve as asked
    /// (PROTOCOL.md §5.9): `after + 1` is below the first retained seq, or the PULL named an
    /// old epoch. Body: firstSeq u32 | newestSeq u32 | epoch u32.
    public struct Truncated: Hashable, Sendable {
        /// The oldest seq the server still holds (`newestSeq + 1` when it holds none).
        public var firstSeq: UInt32
        /// The mailbox's newest durable seq.
        public var newestSeq: UInt32
        /// The mailbox's current epoch.
        public var epoch: UInt32

        public init(firstSeq: UInt32, newestSeq: UInt32, epoch: UInt32) {
            self.firstSeq = firstSeq
            self.newestSeq = newestSeq
            self.epoch = epoch
        }
    }
}

extension Frame.Truncated: FramePayload {
    static var frameType: FrameType { .truncated }
    var bodySize: Int { ProtocolConstants.truncatedBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(firstSeq)
        bytes.appendLittleEndian(newestSeq)
        bytes.appendLittleEndian(epoch)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        firstSeq = try reader.read()
        newestSeq = try reader.read()
        epoch = try reader.read()
    }
}
