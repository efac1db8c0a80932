extension Frame {
    /// STORE_APPEND_OK: the outcome of every group of a STORE_APPEND, in the request's order
    /// (PROTOCOL.md §14.4). Body: resultCount u16 | results (`StoreGroupResult`).
    public struct StoreAppendOK: Hashable, Sendable {
        /// One result per group of the request, 1...`ProtocolConstants.storeAppendGroupsMax`.
        public var results: [StoreGroupResult]

        public init(results: [StoreGroupResult]) { self.results = results }
    }
}

extension Frame.StoreAppendOK: FramePayload {
    static var frameType: FrameType { .storeAppendOK }

    var bodySize: Int {
        results.reduce(ProtocolConstants.storeAppendOKFixedSize) { $0 + $1.encodedSize }
    }

    func validate(limits: FrameLimits) throws(ProtocolError) {
        guard !results.isEmpty else { throw error(.invalidValue(offset: ProtocolConstants.frameHeaderSize)) }
        let max = ProtocolConstants.storeAppendGroupsMax
        guard results.count <= max else { throw error(.fieldTooLarge(length: results.count, limit: max)) }
        var offset = ProtocolConstants.frameHeaderSize + ProtocolConstants.storeAppendOKFixedSize
        for result in results {
            try result.validate(at: offset)
            offset += result.encodedSize
        }
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLength(results.count, as: UInt16.self)
        for result in results { result.encode(into: &bytes) }
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        let countOffset = reader.frameOffset
        let count = Int(try reader.read(UInt16.self))
        guard count > 0 else { throw reader.error(.invalidValue(offset: countOffset)) }
        let max = ProtocolConstants.storeAppendGroupsMax
        guard count <= max else { throw reader.error(.fieldTooLarge(length: count, limit: max)) }
        // Reserve room only for the results the bytes present can hold (the smallest is a failed
        // one with an empty message); a short body fails while reading them.
        let resultSizeMin = ProtocolConstants.storeGroupFailedFixedSize + ProtocolConstants.errorFixedSize
        var results: [StoreGroupResult] = []
        results.reserveCapacity(min(count, reader.remaining / resultSizeMin))
        for _ in 0 ..< count { results.append(try StoreGroupResult(reading: &reader)) }
        self.results = results
    }
}
