/// Proof that a message is stored.
public struct SendReceipt: Equatable, Sendable {
    /// The message's idempotency key, as returned by `send`.
    public var clientMessageID: UInt64
    /// The recipient.
    public var recipient: UInt64
    /// Its seq in the recipient's mailbox; nil when the client learned of the store from its
    /// own outgoing copy rather than from SEND_OK (after a connection was lost before the reply).
    public var seq: UInt32?
    /// The seq of the outgoing copy in the sender's own mailbox.
    public var outgoingSeq: UInt32
    /// The server's timestamp of the message (0 when unknown).
    public var timestampMs: UInt64
    /// The server had stored it before: this was a retry.
    public var duplicate: Bool
}
