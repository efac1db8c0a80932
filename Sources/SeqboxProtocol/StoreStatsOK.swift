extension Frame {
    /// STORE_STATS_OK: the storage node's counters (PROTOCOL.md §14.13). Body: count u16 |
    /// statistics (`StoreStatistic`).
    public struct StoreStatsOK: Hashable, Sendable {
        /// The counters, at most `ProtocolConstants.storeStatisticsMax` of them.
        public var values: [StoreStatistic]

        public init(values: [StoreStatistic]) { self.values = values }
    }
}

extension Frame.StoreStatsOK: FramePayload {
    static var frameType: FrameType { .storeStatsOK }

    var bodySize: Int {
        values.reduce(ProtocolConstants.storeStatsOKFixedSize) { $0 + $1.encodedSize }
    }

    func validate(limits: FrameLimits) throws(ProtocolError) {
        let max = ProtocolConstants.storeStatisticsMax
        guard values.count <= max else { throw error(.fieldTooLarge(length: values.count, limit: max)) }
        var offset = ProtocolConstants.frameHeaderSize + ProtocolConstants.storeStatsOKFixedSize
        for value in values {
            try value.validate(at: offset)
            offset += value.encodedSize
        }
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLength(values.count, as: UInt16.self)
        for value in values { value.encode(into: &bytes) }
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        values = try reader.readList(
            countAs: UInt16.self, allowsEmpty: true, max: ProtocolConstants.storeStatisticsMax,
            elementSizeMin: ProtocolConstants.storeStatisticFixedSize, element: StoreStatistic.init(reading:))
    }
}
