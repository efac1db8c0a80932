import SeqboxProtocol

/// Who the client is, where the server is, and its timers. The defaults are PROTOCOL.md's
/// (§6, §7); tests and weak networks may shorten them.
public struct ClientConfiguration: Sendable {
    /// The server's host name or address.
    public var host: String
    /// The server's TCP port.
    public var port: UInt16
    /// The user to log in as.
    public var user: UInt64
    /// This device.
    public var device: UInt64
    /// The login token for (user, device), as issued out of band (PROTOCOL.md §8).
    public var token: [UInt8]
    /// A device logging in for the first time starts at the oldest retained record instead of
    /// the user's confirmed seq.
    public var fullHistory = false
    /// Pull, deliver and acknowledge the mailbox, and send messages. False for a client that
    /// only blocks, unblocks or reads history: it neither consumes messages nor sends.
    public var syncsMailbox = true

    /// Wait for any reply before the connection is given up as dead (§7).
    public var replyTimeoutMs = UInt64(ProtocolConstants.replyTimeoutMs)
    /// Wait for the TCP connection to open.
    public var connectTimeoutMs = UInt64(ProtocolConstants.replyTimeoutMs)
    /// Send PING after this long without sending; nil uses the server's advertised interval.
    /// Never longer than the server's.
    public var heartbeatIntervalMs: UInt64?
    /// First reconnect delay bound; doubles with each failure (full jitter, §7).
    public var reconnectBackoffInitialMs = UInt64(ProtocolConstants.reconnectBackoffInitialMs)
    /// Largest reconnect delay bound.
    public var reconnectBackoffMaxMs = UInt64(ProtocolConstants.reconnectBackoffMaxMs)
    /// Records asked for in one PULL (clamped to the server's `pullLimitMax`).
    public var pullLimit = UInt16(ProtocolConstants.defaultPullLimit)
    /// Most unanswered messages the outbox accepts; `send` throws `outboxFull` beyond it.
    public var outboxMax = 10_000
    /// Most SENDs in flight on one connection (also bounded by the server's
    /// `requestsInFlightMax`, keeping room for PULL, ACK and PING). Each recipient has at most
    /// one SEND in flight, so a refusal (rate limit) can never reorder a conversation.
    public var sendsInFlightMax = 32
    /// Times a SEND answered `internal` is retried before it is reported failed (§9).
    public var internalErrorRetriesMax = 3
    /// Seed of the reconnect jitter and of the first client message ID of a fresh state
    /// (nil: from the system's random source).
    public var randomSeed: UInt64?

    /// A configuration with the protocol's default timers.
    public init(host: String, port: UInt16, user: UInt64, device: UInt64, token: [UInt8]) {
        self.host = host
        self.port = port
        self.user = user
        self.device = device
        self.token = token
    }

    /// Checks the values a server would refuse or that would stall the client.
    public func validate() throws(ClientError) {
        guard user != 0 else { throw .invalidConfiguration("user must not be 0") }
        guard token.count <= ProtocolConstants.tokenSizeMax else {
            throw .invalidConfiguration("token above \(ProtocolConstants.tokenSizeMax) bytes")
        }
        guard replyTimeoutMs > 0, connectTimeoutMs > 0 else { throw .invalidConfiguration("timeouts must be positive") }
        guard reconnectBackoffInitialMs > 0, reconnectBackoffMaxMs >= reconnectBackoffInitialMs else {
            throw .invalidConfiguration("reconnect backoff must be positive, initial ≤ max")
        }
        guard pullLimit > 0 else { throw .invalidConfiguration("pullLimit must be positive") }
        guard outboxMax > 0, sendsInFlightMax > 0 else { throw .invalidConfiguration("outboxMax and sendsInFlightMax must be positive") }
        if let heartbeatIntervalMs { guard heartbeatIntervalMs > 0 else { throw .invalidConfiguration("heartbeat must be positive") } }
    }
}
