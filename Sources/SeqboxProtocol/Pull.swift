extension Frame {
    /// PULL: ask for the records after a seq (PROTOCOL.md §5.7). Body: after u32 | epoch u32 |
    /// limit u16 | reserved u16.
    public struct Pull: Hashable, Sendable {
        /// The highest seq the client holds; the answer starts at `after + 1`.
        public var after: UInt32
        /// The epoch the client's `after` belongs to, or 0 when it knows none yet. A different
        /// non-zero epoch is answered with TRUNCATED.
        public var epoch: UInt32
        /// Most records wanted; the server clamps it to its `pullLimitMax`. 0 asks only for
        /// the newest seq and epoch.
        public var limit: UInt16

        public init(after: UInt32, epoch: UInt32, limit: UInt16) {
            self.after = after
            self.epoch = epoch
            self.limit = limit
        }
    }
}

extension Frame.Pull: FramePayload {
    static var frameType: FrameType { .pull }
    var bodySize: Int { ProtocolConstants.pullBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(after)
        bytes.appendLittleEndian(epoch)
        bytes.appendLittleEndian(limit)
        bytes.appendLittleEndian(UInt16(0))
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        after = try reader.read()
        epoch = try reader.read()
        limit = try reader.read()
        try reader.readReserved(UInt16.self)
    }
}
