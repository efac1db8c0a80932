import SeqboxProtocol

/// What a `MailboxClient` tells the application, in the order it happened. Delivered on the
/// client's own thread to the handler given at `init`; keep the handler short (hand long work
/// to another thread), since the client waits for it before it acknowledges messages.
public enum ClientEvent: Equatable, Sendable {
    /// Logged in; the client now syncs the mailbox.
    case connected(LoginSummary)
    /// Caught up: every record up to `heldSeq` has been delivered.
    case synced(heldSeq: UInt32)
    /// New records, in seq order, each delivered exactly once. When the handler returns, the
    /// client saves their seq and acknowledges them to the server.
    case messages([InboxMessage])
    /// The server stored a message (SEND_OK), or the client found its copy in its own mailbox.
    case sent(SendReceipt)
    /// The server refused a message for good; it was not stored.
    case sendFailed(SendFailure)
    /// Seqs that will never be delivered, reported instead of skipped silently: expired by
    /// retention, or lost in a repair that changed the epoch (PROTOCOL.md §11).
    case gap(SeqGap)
    /// The mailbox epoch changed (an operator repaired lost data): history may be incomplete.
    /// Everything held stays valid; syncing continues in the new epoch.
    case epochChanged(from: UInt32, to: UInt32)
    /// A BLOCK or UNBLOCK took effect.
    case blockChanged(user: UInt64, blocked: Bool)
    /// A BLOCK or UNBLOCK was refused.
    case blockFailed(user: UInt64, code: ErrorCode)
    /// A push registration (or its removal) is durable on the server: `registered` tells
    /// whether this device has a push token now.
    case pushChanged(registered: Bool)
    /// A push registration (or its removal) was refused.
    case pushFailed(code: ErrorCode)
    /// The connection ended; the client reconnects by itself after `reconnectInMs`.
    case disconnected(DisconnectReason, reconnectInMs: UInt64)
    /// The client stopped for good: it will not reconnect (credentials refused, replaced by
    /// another login of the same device, `stop()` called, or the state could not be saved).
    case stopped(StopReason)
}

/// The mailbox as LOGIN_OK described it.
public struct LoginSummary: Equatable, Sendable {
    /// The mailbox's newest seq.
    public var newestSeq: UInt32
    /// The highest seq any of the user's devices acknowledged.
    public var confirmedSeq: UInt32
    /// Where this device syncs from: the seq it holds.
    public var heldSeq: UInt32
    /// The oldest seq still retained.
    public var firstSeq: UInt32
    /// The mailbox epoch.
    public var epoch: UInt32
}
