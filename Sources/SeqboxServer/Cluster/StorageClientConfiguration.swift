import SeqboxProtocol
import SeqboxStore

/// The bounds and timers of a gateway's `StorageNodeClient` (one per storage node). Every
/// resource it holds is bounded by one of these: connections, queued requests, requests in
/// flight (the node's advertised `requestsInFlightMax`), queued body bytes, output bytes per
/// connection.
public struct StorageClientConfiguration: Sendable {
    /// TCP connections to the node (each pipelines up to the node's `requestsInFlightMax`).
    public var connections = 1
    /// A connect not completed this long fails (and is retried after the backoff).
    public var connectTimeoutMs = 1_000
    /// HELLO_OK and LOGIN_OK must arrive this long after the connect completed.
    public var handshakeTimeoutMs = 2_000
    /// A request unanswered this long after it was queued answers `unavailable`. A write may
    /// still have been applied: the client's retry (same client message ID) is a duplicate.
    public var requestTimeoutMs = 2_000
    /// Requests queued and not yet sent, at most; beyond it requests answer `overloaded`.
    public var queuedRequestsMax = 65_536
    /// Message body bytes those queued requests may hold, at most (a flood of large SENDs is
    /// answered `overloaded` before it fills the gateway's memory).
    public var queuedBytesMax = 64 << 20
    /// Encoded bytes waiting to be written on one connection, at most; beyond it requests wait
    /// in the queue (TCP pushes back on the gateway, and the queue bound on its callers).
    public var outputBufferBytesMax = 8 << 20
    /// First delay before reconnecting after a failure; doubles per failed attempt.
    public var reconnectBackoffInitialMs = 50
    /// Largest reconnect delay.
    public var reconnectBackoffMaxMs = 2_000
    /// `retryAfterMs` of the `unavailable` and `overloaded` errors the client answers.
    public var retryAfterMs: UInt32 = 1_000
    /// A PING goes out on a connection that sent nothing for this long (at most a third of the
    /// node's idle timeout, whatever it advertises).
    public var heartbeatIntervalMs = 5_000
    /// Bytes read from one connection per loop turn at most (timers run under a flood).
    public var receiveBytesPerTurnMax = 4 << 20
    /// Lifetime of the service token minted for each LOGIN.
    public var tokenLifetimeSeconds: UInt64 = 24 * 3_600
    /// Unix seconds now (token expiry); replaceable in tests.
    public var wallClockSeconds: @Sendable () -> UInt64 = { wallClockMilliseconds() / 1_000 }

    public init() {}

    /// Stops the process on settings that cannot work (programming errors).
    func validate() {
        precondition(connections >= 1, "at least one connection per node")
        precondition(connectTimeoutMs >= 1 && handshakeTimeoutMs >= 1 && requestTimeoutMs >= 1, "timeouts")
        precondition(queuedRequestsMax >= 1 && queuedBytesMax >= 1, "queue bounds")
        precondition(outputBufferBytesMax >= ProtocolConstants.lengthFieldSize + ProtocolConstants.frameLengthMax, "the output buffer must hold one largest frame")
        precondition(reconnectBackoffInitialMs >= 1 && reconnectBackoffMaxMs >= reconnectBackoffInitialMs, "backoff")
        precondition(heartbeatIntervalMs >= 1 && receiveBytesPerTurnMax >= 1, "heartbeat and receive bounds")
    }
}
