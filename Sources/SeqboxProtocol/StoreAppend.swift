extension Frame {
    /// STORE_APPEND: groups of messages for a storage node to append (PROTOCOL.md §14.3). Each
    /// group is one atomic append; groups are independent and answered one by one in
    /// STORE_APPEND_OK. Body: groupCount u16 | groups (`StoreAppendGroup`).
    public struct StoreAppend: Hashable, Sendable {
        /// The groups, 1...`ProtocolConstants.storeAppendGroupsMax` of them.
        public var groups: [StoreAppendGroup]

        public init(groups: [StoreAppendGroup]) { self.groups = groups }
    }
}

extension Frame.StoreAppend: FramePayload {
    static var frameType: FrameType { .storeAppend }

    var bodySize: Int {
        groups.reduce(ProtocolConstants.storeAppendFixedSize) { $0 + $1.encodedSize }
    }

    func validate(limits: FrameLimits) throws(ProtocolError) {
        guard !groups.isEmpty else { throw error(.invalidValue(offset: ProtocolConstants.frameHeaderSize)) }
        let max = ProtocolConstants.storeAppendGroupsMax
        guard groups.count <= max else { throw error(.fieldTooLarge(length: groups.count, limit: max)) }
        var offset = ProtocolConstants.frameHeaderSize + ProtocolConstants.storeAppendFixedSize
        for group in groups {
            try group.validate(limits: limits, at: offset)
            offset += group.encodedSize
        }
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLength(groups.count, as: UInt16.self)
        for group in groups { group.encode(into: &bytes) }
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        groups = try reader.readList(
            countAs: UInt16.self, max: ProtocolConstants.storeAppendGroupsMax,
            elementSizeMin: ProtocolConstants.storeAppendGroupFixedSize + ProtocolConstants.storeMessageFixedSize,
            element: StoreAppendGroup.init(reading:))
    }
}
