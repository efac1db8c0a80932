extension Frame {
    /// SEND_OK: the message is durable in the recipient's mailbox (PROTOCOL.md §5.6). Body:
    /// seq u32 | outgoingSeq u32 | timestampMs u64 | flags u8 (bit 0 duplicate) | reserved u8 |
    /// reserved u16.
    public struct SendOK: Hashable, Sendable {
        /// The message's seq in the recipient's mailbox.
        public var seq: UInt32
        /// The seq of the sender's own outgoing copy in the sender's mailbox (0: none kept).
        public var outgoingSeq: UInt32
        /// The server's timestamp of the message, in Unix milliseconds.
        public var timestampMs: UInt64
        /// The client message ID had been stored before: nothing new was stored and `seq`,
        /// `outgoingSeq` and `timestampMs` are the original ones.
        public var duplicate: Bool

        public init(seq: UInt32, outgoingSeq: UInt32, timestampMs: UInt64, duplicate: Bool = false) {
            self.seq = seq
            self.outgoingSeq = outgoingSeq
            self.timestampMs = timestampMs
            self.duplicate = duplicate
        }
    }
}

extension Frame.SendOK: FramePayload {
    static var frameType: FrameType { .sendOK }
    var bodySize: Int { ProtocolConstants.sendOKBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(seq)
        bytes.appendLittleEndian(outgoingSeq)
        bytes.appendLittleEndian(timestampMs)
        bytes.appendLittleEndian(duplicate ? ProtocolConstants.sendOKFlagDuplicate : 0)
        bytes.appendLittleEndian(UInt8(0))
        bytes.appendLittleEndian(UInt16(0))
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        seq = try reader.read()
        outgoingSeq = try reader.read()
        timestampMs = try reader.read()
        let flags = try reader.readFlags(known: ProtocolConstants.sendOKFlagDuplicate)
        duplicate = flags & ProtocolConstants.sendOKFlagDuplicate != 0
        try reader.readReserved(UInt8.self)
        try reader.readReserved(UInt16.self)
    }
}
