/// What a client keeps durably between runs, per (user, device) (PROTOCOL.md §10.2): the
/// mailbox epoch, the highest seq held with everything up to it, the next client message ID,
/// and the messages sent but not yet answered.
///
/// The client writes it before anything that depends on it leaves the process: before a SEND
/// goes on the wire (so a restarted client resends it with the same ID) and after delivered
/// messages are handed to the application but before they are acknowledged to the server.
public struct ClientState: Equatable, Sendable {
    /// The user this state belongs to.
    public var user: UInt64
    /// The device this state belongs to.
    public var device: UInt64
    /// The mailbox epoch the held seqs belong to; 0 until the first LOGIN_OK.
    public var epoch: UInt32
    /// The highest seq delivered to the application, with every seq before it (or an explicit
    /// gap reported for it).
    public var heldSeq: UInt32
    /// The client message ID the next SEND gets. Starts at a random value so a device that lost
    /// its state does not reuse the IDs of its earlier messages (the server would take them for
    /// retries and store nothing).
    public var nextClientMessageID: UInt64
    /// Messages accepted from the application and not yet known to be stored, oldest first.
    public var outbox: [OutboxEntry]

    /// A fresh state: nothing held, an empty outbox.
    public init(user: UInt64, device: UInt64, firstClientMessageID: UInt64) {
        self.user = user
        self.device = device
        epoch = 0
        heldSeq = 0
        nextClientMessageID = max(firstClientMessageID, 1)
        outbox = []
    }

    /// Whether no LOGIN_OK was ever processed with this state: nothing is held yet.
    public var isFresh: Bool { epoch == 0 }

    /// Takes the next client message ID (never 0).
    mutating func takeClientMessageID() -> UInt64 {
        let id = nextClientMessageID
        nextClientMessageID &+= 1
        if nextClientMessageID == 0 { nextClientMessageID = 1 }
        return id
    }
}

/// A message waiting for its SEND_OK: kept, with its ID, until the server confirms it stored it
/// or refuses it for good.
public struct OutboxEntry: Equatable, Sendable {
    /// The idempotency key every (re)send of this message carries.
    public var clientMessageID: UInt64
    /// The recipient.
    public var recipient: UInt64
    /// The message.
    public var body: [UInt8]

    public init(clientMessageID: UInt64, recipient: UInt64, body: [UInt8]) {
        self.clientMessageID = clientMessageID
        self.recipient = recipient
        self.body = body
    }
}
