extension Frame {
    /// STORE_ACK: move `device`'s cursor in `user`'s mailbox, as ACK does for the logged-in
    /// device (PROTOCOL.md §14.7). Answered with ACK_OK (the cursor) or ERROR. Body: user u64 |
    /// device u64 | seq u32.
    public struct StoreAck: Hashable, Sendable {
        /// The mailbox owner.
        public var user: UInt64
        /// The device whose cursor moves.
        public var device: UInt64
        /// The highest seq the device holds; the cursor becomes max(cursor, seq).
        public var seq: UInt32

        public init(user: UInt64, device: UInt64, seq: UInt32) {
            self.user = user
            self.device = device
            self.seq = seq
        }
    }
}

extension Frame.StoreAck: FramePayload {
    static var frameType: FrameType { .storeAck }
    var bodySize: Int { ProtocolConstants.storeAckBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(user)
        bytes.appendLittleEndian(device)
        bytes.appendLittleEndian(seq)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        user = try reader.read()
        device = try reader.read()
        seq = try reader.read()
    }
}
