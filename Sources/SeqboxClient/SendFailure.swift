import SeqboxProtocol

/// A message the server refused; nothing was stored.
public struct SendFailure: Equatable, Sendable {
    /// The message's idempotency key.
    public var clientMessageID: UInt64
    /// The recipient.
    public var recipient: UInt64
    /// Why (PROTOCOL.md §9): `blocked`, `payloadTooLarge`, `contentRejected`, …
    public var code: ErrorCode
    /// The server's detail text, for logs.
    public var message: String
}
