extension Frame {
    /// PULL_OK: the records after the PULL's `after`, in seq order (PROTOCOL.md §5.8). Body:
    /// newestSeq u32 | epoch u32 | flags u8 (bit 0 hasMore) | reserved u8 | recordCount u16 |
    /// records (`PullRecord`).
    public struct PullOK: Hashable, Sendable {
        /// The mailbox's newest durable seq when the answer was made.
        public var newestSeq: UInt32
        /// The mailbox's epoch.
        public var epoch: UInt32
        /// More records follow the last one returned: pull again after it.
        public var hasMore: Bool
        /// The records, ascending by seq, at most `UInt16.max` of them.
        public var records: [PullRecord]

        public init(newestSeq: UInt32, epoch: UInt32, hasMore: Bool, records: [PullRecord]) {
            self.newestSeq = newestSeq
            self.epoch = epoch
            self.hasMore = hasMore
            self.records = records
        }

        /// Body bytes of a PULL_OK with no records; each record adds its `encodedSize`.
        public static let emptyBodySize = ProtocolConstants.pullOKFixedSize
    }
}

extension Frame.PullOK: FramePayload {
    static var frameType: FrameType { .pullOK }

    var bodySize: Int {
        records.reduce(ProtocolConstants.pullOKFixedSize) { $0 + $1.encodedSize }
    }

    func validate(limits: FrameLimits) throws(ProtocolError) {
        guard records.count <= ProtocolConstants.pullLimitMax else {
            throw error(.fieldTooLarge(length: records.count, limit: ProtocolConstants.pullLimitMax))
        }
        for record in records where record.body.count > limits.messageBodySizeMax {
            throw error(.payloadTooLarge(length: record.body.count, limit: limits.messageBodySizeMax))
        }
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(newestSeq)
        bytes.appendLittleEndian(epoch)
        bytes.appendLittleEndian(hasMore ? ProtocolConstants.pullOKFlagHasMore : 0)
        bytes.appendLittleEndian(UInt8(0))
        bytes.appendLength(records.count, as: UInt16.self)
        for record in records { record.encode(into: &bytes) }
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        newestSeq = try reader.read()
        epoch = try reader.read()
        let flags = try reader.readFlags(known: ProtocolConstants.pullOKFlagHasMore)
        hasMore = flags & ProtocolConstants.pullOKFlagHasMore != 0
        try reader.readReserved(UInt8.self)
        let recordCount = Int(try reader.read(UInt16.self))
        // Check the count against the bytes present before reserving room for it, so a tiny
        // frame cannot make the decoder allocate for 65,535 records.
        guard recordCount <= reader.remaining / ProtocolConstants.pullRecordFixedSize else {
            throw reader.error(.shortBody)
        }
        var records: [PullRecord] = []
        records.reserveCapacity(recordCount)
        for _ in 0 ..< recordCount { records.append(try PullRecord(reading: &reader)) }
        self.records = records
    }
}
