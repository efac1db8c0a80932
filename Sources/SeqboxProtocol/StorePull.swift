extension Frame {
    /// STORE_PULL: the records of `user`'s mailbox after a seq, as PULL asks for the logged-in
    /// user's (PROTOCOL.md §14.5). Answered with PULL_OK, TRUNCATED or ERROR. Body: user u64 |
    /// after u32 | epoch u32 | limit u16 | reserved u16 | frameLengthMax u32.
    public struct StorePull: Hashable, Sendable {
        /// The mailbox owner.
        public var user: UInt64
        /// The highest seq the puller holds; the answer starts at `after + 1`.
        public var after: UInt32
        /// Most records wanted; the node clamps it to its `pullLimitMax`.
        public var limit: UInt16
        /// The epoch `after` belongs to, or 0 when none is known (as in PULL).
        public var epoch: UInt32
        /// Largest length field of the PULL_OK answer: the frame limit of the client connection
        /// the gateway forwards it to, so the answer fits there unchanged.
        public var frameLengthMax: UInt32

        public init(user: UInt64, after: UInt32, limit: UInt16, epoch: UInt32, frameLengthMax: UInt32) {
            self.user = user
            self.after = after
            self.limit = limit
            self.epoch = epoch
            self.frameLengthMax = frameLengthMax
        }
    }
}

extension Frame.StorePull: FramePayload {
    static var frameType: FrameType { .storePull }
    var bodySize: Int { ProtocolConstants.storePullBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(user)
        bytes.appendLittleEndian(after)
        bytes.appendLittleEndian(epoch)
        bytes.appendLittleEndian(limit)
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(frameLengthMax)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        user = try reader.read()
        after = try reader.read()
        epoch = try reader.read()
        limit = try reader.read()
        try reader.readReserved(UInt16.self)
        frameLengthMax = try reader.read()
    }
}
