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
        // The smallest result is a failed one with an empty message.
        results = try reader.readList(
            countAs: UInt16.self, max: ProtocolConstants.storeAppendGroupsMax,
            elementSizeMin: ProtocolConstants.storeGroupFailedFixedSize + ProtocolConstants.errorFixedSize,
            element: StoreGroupResult.init(reading:))
    }
}
