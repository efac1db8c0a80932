extension Frame {
    /// STORE_NEWEST: the seq state of `user`'s mailbox (PROTOCOL.md §14.10). Answered with
    /// STORE_NEWEST_OK or ERROR. Body: user u64.
    public struct StoreNewest: Hashable, Sendable {
        /// The mailbox owner.
        public var user: UInt64

        public init(user: UInt64) { self.user = user }
    }
}

extension Frame.StoreNewest: FramePayload {
    static var frameType: FrameType { .storeNewest }
    var bodySize: Int { ProtocolConstants.storeNewestBodySize }
    func encode(into bytes: inout [UInt8]) { bytes.appendLittleEndian(user) }
    init(reading reader: inout WireReader) throws(ProtocolError) { user = try reader.read() }
}
