import SeqboxProtocol

/// Why a connection ended.
public enum DisconnectReason: Equatable, Sendable, CustomStringConvertible {
    /// The TCP connection could not be made.
    case connectFailed(errno: Int32)
    /// The connection could not be made within the connect timeout.
    case connectTimedOut
    /// The server closed the connection, or it broke (reset, I/O error).
    case connectionLost(errno: Int32)
    /// A request got no reply within the reply timeout: the path is dead or half-open.
    case replyTimedOut
    /// The server sent bytes that are not a valid frame, or a reply out of turn.
    case protocolViolation(String)
    /// The server sent ERROR with the closing flag.
    case serverError(ErrorCode, String)
    /// The server said GOODBYE.
    case goodbye(GoodbyeReason)

    public var description: String {
        switch self {
        case .connectFailed(let code): "connect failed: \(ClientError.errnoName(code))"
        case .connectTimedOut: "connect timed out"
        case .connectionLost(let code): code == 0 ? "connection closed" : "connection lost: \(ClientError.errnoName(code))"
        case .replyTimedOut: "no reply within the reply timeout"
        case .protocolViolation(let detail): "protocol violation: \(detail)"
        case .serverError(let code, let message): "server error \(code)\(message.isEmpty ? "" : ": \(message)")"
        case .goodbye(let reason): "goodbye (\(reason))"
        }
    }
}
