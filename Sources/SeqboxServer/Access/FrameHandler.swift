import SeqboxProtocol

/// Identifies one client connection for the whole life of the server process.
public struct ConnectionID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "c\(rawValue)" }
}

/// Why a connection ended (logged, and sent in GOODBYE/ERROR where the peer can still hear it).
public enum CloseReason: Sendable, Equatable, CustomStringConvertible {
    /// The peer closed or reset the connection.
    case peerClosed
    /// Nothing arrived within the idle timeout (heartbeats missing: a half-open connection).
    case idleTimeout
    /// The connection's output buffer passed its bound: the peer reads too slowly.
    case slowConsumer
    /// The peer sent bytes that are not a valid frame, or a frame out of place.
    case protocolError(String)
    /// The service asked to close it (e.g. failed login), with a reason.
    case closedByServer(String)
    /// The server is shutting down.
    case serverShutdown
    /// A socket call failed.
    case ioError(String)

    public var description: String {
        switch self {
        case .peerClosed: "peer closed"
        case .idleTimeout: "idle timeout"
        case .slowConsumer: "slow consumer"
        case .protocolError(let detail): "protocol error: \(detail)"
        case .closedByServer(let detail): "closed by server: \(detail)"
        case .serverShutdown: "server shutdown"
        case .ioError(let detail): "I/O error: \(detail)"
        }
    }
}

/// The service's view of a connection: send frames and close it, from any thread.
///
/// Sends made on the connection's own event-loop thread go straight into its output buffer;
/// sends from other threads (e.g. the store's writer completing an append) are queued to that
/// loop and it is woken. Either way frames go out in the order `send` was called per thread.
public protocol ConnectionHandle: AnyObject, Sendable {
    var id: ConnectionID { get }
    /// Queues `frame` for sending. Returns false if the connection is already closed.
    @discardableResult
    func send(_ frame: Frame, requestID: UInt32) -> Bool
    /// Sends `frames` in one go (e.g. a PULL_OK followed by nothing else). Returns false if closed.
    @discardableResult
    func send(_ frames: [(frame: Frame, requestID: UInt32)]) -> Bool
    /// Flushes what is queued, then closes with `reason`.
    func close(reason: CloseReason)
    /// True on the connection's event-loop thread.
    var isOnLoop: Bool { get }
    /// Runs `body` on the connection's event-loop thread (now if already there).
    func execute(_ body: @escaping @Sendable () -> Void)
}

/// What the access layer calls into: the service logic (login, send, pull, ack, …).
/// The access layer handles the HELLO handshake, PING/PONG, idle timeouts and output-buffer
/// bounds itself; every other frame after a successful HELLO comes here. Calls for one
/// connection arrive on that connection's event-loop thread, in order.
public protocol FrameHandler: AnyObject, Sendable {
    /// A connection completed the HELLO handshake.
    func connectionOpened(_ connection: any ConnectionHandle)
    /// A decoded frame from the peer (not HELLO, PING or PONG).
    func handle(_ frame: DecodedFrame, from connection: any ConnectionHandle)
    /// The connection is gone; it accepts no more sends.
    func connectionClosed(_ connection: any ConnectionHandle, reason: CloseReason)
}
