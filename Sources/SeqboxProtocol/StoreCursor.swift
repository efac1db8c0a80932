extension Frame {
    /// STORE_CURSOR: the cursor of `device` in `user`'s mailbox (PROTOCOL.md §14.9). Answered
    /// with ACK_OK(seq: cursor) or ERROR. Body: user u64 | device u64.
    public struct StoreCursor: Hashable, Sendable {
        /// The mailbox owner.
        public var user: UInt64
        /// The device whose cursor is asked for.
        public var device: UInt64

        public init(user: UInt64, device: UInt64) {
            self.user = user
            self.device = device
        }
    }
}

extension Frame.StoreCursor: FramePayload {
    static var frameType: FrameType { .storeCursor }
    var bodySize: Int { ProtocolConstants.storeCursorBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(user)
        bytes.appendLittleEndian(device)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        user = try reader.read()
        device = try reader.read()
    }
}
