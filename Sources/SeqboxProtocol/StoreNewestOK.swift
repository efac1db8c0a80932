extension Frame {
    /// STORE_NEWEST_OK: the answer to STORE_NEWEST (PROTOCOL.md §14.11). Body: newestSeq u32 |
    /// firstSeq u32 | confirmedSeq u32 | epoch u32.
    public struct StoreNewestOK: Hashable, Sendable {
        /// The mailbox's newest durable seq (0: empty).
        public var newestSeq: UInt32
        /// The oldest seq a pull can still return (`newestSeq + 1` when none is retained).
        public var firstSeq: UInt32
        /// The highest seq any of the owner's devices has acknowledged.
        public var confirmedSeq: UInt32
        /// The mailbox's epoch, from 1.
        public var epoch: UInt32

        public init(newestSeq: UInt32, firstSeq: UInt32, confirmedSeq: UInt32, epoch: UInt32) {
            self.newestSeq = newestSeq
            self.firstSeq = firstSeq
            self.confirmedSeq = confirmedSeq
            self.epoch = epoch
        }
    }
}

extension Frame.StoreNewestOK: FramePayload {
    static var frameType: FrameType { .storeNewestOK }
    var bodySize: Int { ProtocolConstants.storeNewestOKBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(newestSeq)
        bytes.appendLittleEndian(firstSeq)
        bytes.appendLittleEndian(confirmedSeq)
        bytes.appendLittleEndian(epoch)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        newestSeq = try reader.read()
        firstSeq = try reader.read()
        confirmedSeq = try reader.read()
        epoch = try reader.read()
    }
}
