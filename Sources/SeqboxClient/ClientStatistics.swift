/// Counters of what a client did since it was created, for logs and tests: how often the
/// network forced it to repeat itself.
public struct ClientStatistics: Equatable, Sendable {
    /// SEND frames written, first sends and resends.
    public var sendsWritten = 0
    /// SEND frames written for a message this client had written before (same client message
    /// ID: after a lost connection, a rate limit, a server error).
    public var resends = 0
    /// PULL frames written for the sync.
    public var pullsWritten = 0
    /// TCP connections attempted.
    public var connectAttempts = 0
    /// LOGIN_OKs received.
    public var logins = 0

    public init() {}
}
