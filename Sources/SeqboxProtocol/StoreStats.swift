extension Frame {
    /// STORE_STATS: the storage node's counters, please (PROTOCOL.md §14.12). Answered with
    /// STORE_STATS_OK or ERROR. Empty body.
    public struct StoreStats: Hashable, Sendable {
        public init() {}
    }
}

extension Frame.StoreStats: FramePayload {
    static var frameType: FrameType { .storeStats }
    var bodySize: Int { ProtocolConstants.storeStatsBodySize }
    func encode(into bytes: inout [UInt8]) {}
    init(reading reader: inout WireReader) throws(ProtocolError) {}
}
