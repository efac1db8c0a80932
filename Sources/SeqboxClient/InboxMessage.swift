import SeqboxProtocol

/// One record of the mailbox, delivered to the application.
public struct InboxMessage: Equatable, Sendable {
    /// Its seq in this user's mailbox.
    public var seq: UInt32
    /// True for the user's own message (sent from this device or another of the user's), false
    /// for a message from someone else.
    public var outgoing: Bool
    /// The other party: the sender of an incoming message, the recipient of an outgoing one.
    public var peer: UInt64
    /// The device that sent it.
    public var senderDevice: UInt64
    /// The sender's idempotency key.
    public var clientMessageID: UInt64
    /// When the server stored it, in Unix milliseconds.
    public var timestampMs: UInt64
    /// The message.
    public var body: [UInt8]

    public init(_ record: PullRecord) {
        seq = record.seq
        outgoing = record.outgoing
        peer = record.peer
        senderDevice = record.senderDevice
        clientMessageID = record.clientMessageID
        timestampMs = record.timestampMs
        body = record.body
    }

    /// The body as text (invalid UTF-8 repaired).
    public var text: String { String(decoding: body, as: UTF8.self) }
}
