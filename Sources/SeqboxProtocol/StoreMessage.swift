/// One message of a STORE_APPEND group: a record to append to `user`'s mailbox
/// (PROTOCOL.md §14.3). Layout: user u64 | sender u64 | device u64 | clientMessageID u64 |
/// timestampMs u64 | flags u8 (bit 0 outgoing) | reserved u8 | reserved u16 | bodyLength u32 | body.
public struct StoreMessage: Hashable, Sendable {
    /// The mailbox owner: the recipient, or the sender for its own outgoing copy.
    public var user: UInt64
    /// The other party: the sender of an incoming message, the recipient of an outgoing copy
    /// (the record's `peer` in PULL_OK).
    public var sender: UInt64
    /// The device that sent the message.
    public var device: UInt64
    /// The sender's idempotency key; with the sending user and `device` it makes a resent
    /// message a duplicate instead of a second record.
    public var clientMessageID: UInt64
    /// The gateway's timestamp of the message, in Unix milliseconds.
    public var timestampMs: UInt64
    /// The record is the mailbox owner's own outgoing copy.
    public var outgoing: Bool
    /// The message as sent, at most the decoder's `messageBodySizeMax` bytes.
    public var body: [UInt8]

    public init(
        user: UInt64, sender: UInt64, device: UInt64, clientMessageID: UInt64, timestampMs: UInt64,
        outgoing: Bool, body: [UInt8]
    ) {
        self.user = user
        self.sender = sender
        self.device = device
        self.clientMessageID = clientMessageID
        self.timestampMs = timestampMs
        self.outgoing = outgoing
        self.body = body
    }

    /// Bytes this message takes in a STORE_APPEND.
    public var encodedSize: Int { ProtocolConstants.storeMessageFixedSize + body.count }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(user)
        bytes.appendLittleEndian(sender)
        bytes.appendLittleEndian(device)
        bytes.appendLittleEndian(clientMessageID)
        bytes.appendLittleEndian(timestampMs)
        bytes.appendLittleEndian(outgoing ? ProtocolConstants.storeMessageFlagOutgoing : 0)
        bytes.appendLittleEndian(UInt8(0))
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLength(body.count, as: UInt32.self)
        bytes.append(contentsOf: body)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        user = try reader.read()
        sender = try reader.read()
        device = try reader.read()
        clientMessageID = try reader.read()
        timestampMs = try reader.read()
        let flags = try reader.readFlags(known: ProtocolConstants.storeMessageFlagOutgoing)
        outgoing = flags & ProtocolConstants.storeMessageFlagOutgoing != 0
        try reader.readReserved(UInt8.self)
        try reader.readReserved(UInt16.self)
        let bodyLength = Int(try reader.read(UInt32.self))
        let limit = reader.limits.messageBodySizeMax
        guard bodyLength <= limit else { throw reader.error(.payloadTooLarge(length: bodyLength, limit: limit)) }
        body = try reader.readBytes(count: bodyLength)
    }
}
