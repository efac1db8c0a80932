/// One message in a PULL_OK (PROTOCOL.md §5.8). Layout: seq u32 | flags u8 (bit 0 outgoing) |
/// reserved u8 | reserved u16 | peer u64 | senderDevice u64 | clientMessageID u64 |
/// timestampMs u64 | bodyLength u32 | body.
public struct PullRecord: Hashable, Sendable {
    /// The record's seq in the mailbox being pulled.
    public var seq: UInt32
    /// The record is the mailbox owner's own outgoing copy (sent from one of its devices).
    public var outgoing: Bool
    /// The other party: the sender of an incoming message, the recipient of an outgoing copy.
    /// (One field serves both: the mailbox owner is the other end in either case.)
    public var peer: UInt64
    /// The device that sent the message (the peer's for incoming, the owner's for outgoing).
    public var senderDevice: UInt64
    /// The sender's idempotency key for the message.
    public var clientMessageID: UInt64
    /// The server's timestamp of the message, in Unix milliseconds.
    public var timestampMs: UInt64
    /// The message as sent.
    public var body: [UInt8]

    public init(
        seq: UInt32, outgoing: Bool = false, peer: UInt64, senderDevice: UInt64,
        clientMessageID: UInt64, timestampMs: UInt64, body: [UInt8]
    ) {
        self.seq = seq
        self.outgoing = outgoing
        self.peer = peer
        self.senderDevice = senderDevice
        self.clientMessageID = clientMessageID
        self.timestampMs = timestampMs
        self.body = body
    }

    /// Bytes this record takes in a PULL_OK: a server adds records while the frame stays within
    /// its `frameLengthMax`.
    public var encodedSize: Int { ProtocolConstants.pullRecordFixedSize + body.count }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(seq)
        bytes.appendLittleEndian(outgoing ? ProtocolConstants.recordFlagOutgoing : 0)
        bytes.appendLittleEndian(UInt8(0))
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(peer)
        bytes.appendLittleEndian(senderDevice)
        bytes.appendLittleEndian(clientMessageID)
        bytes.appendLittleEndian(timestampMs)
        bytes.appendLength(body.count, as: UInt32.self)
        bytes.append(contentsOf: body)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        seq = try reader.read()
        let flags = try reader.readFlags(known: ProtocolConstants.recordFlagOutgoing)
        outgoing = flags & ProtocolConstants.recordFlagOutgoing != 0
        try reader.readReserved(UInt8.self)
        try reader.readReserved(UInt16.self)
        peer = try reader.read()
        senderDevice = try reader.read()
        clientMessageID = try reader.read()
        timestampMs = try reader.read()
        let bodyLength = Int(try reader.read(UInt32.self))
        let limit = reader.limits.messageBodySizeMax
        guard bodyLength <= limit else { throw reader.error(.payloadTooLarge(length: bodyLength, limit: limit)) }
        body = try reader.readBytes(count: bodyLength)
    }
}
