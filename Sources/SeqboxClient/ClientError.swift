#if canImport(Glibc)
import Glibc
#endif
/// Why a client call was refused, or why the client could not start.
public enum ClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A SEND to user 0 or to oneself (the server would answer `badRequest`).
    case invalidRecipient(UInt64)
    /// A message body above the server's (or the protocol's) `messageBodySizeMax`.
    case bodyTooLarge(size: Int, limit: Int)
    /// The outbox holds `ClientConfiguration.outboxMax` unanswered messages already.
    case outboxFull(limit: Int)
    /// The client was configured with `syncsMailbox = false`, which sends no messages.
    case sendingDisabled
    /// The client was stopped, or never started.
    case notRunning
    /// `start()` was called twice.
    case alreadyStarted
    /// Another process (or client) holds the state file.
    case stateFileLocked(path: String)
    /// The state file exists but is not a valid client state file.
    case stateFileCorrupt(path: String, detail: String)
    /// The state file belongs to another (user, device).
    case stateBelongsToAnotherIdentity(user: UInt64, device: UInt64)
    /// A system call failed.
    case system(operation: String, errno: Int32)
    /// A configuration value out of range.
    case invalidConfiguration(String)
    /// A push token that is empty or above `ProtocolConstants.pushTokenSizeMax` bytes.
    case invalidPushToken(size: Int, limit: Int)

    public var description: String {
        switch self {
        case .invalidRecipient(let user): "cannot send to user \(user)"
        case .bodyTooLarge(let size, let limit): "message body of \(size) bytes is above the limit of \(limit)"
        case .outboxFull(let limit): "the outbox already holds \(limit) unanswered messages"
        case .sendingDisabled: "this client does not send messages (syncsMailbox is false)"
        case .notRunning: "the client is not running"
        case .alreadyStarted: "the client is already started"
        case .stateFileLocked(let path): "\(path) is in use by another client"
        case .stateFileCorrupt(let path, let detail): "\(path) is not a valid state file: \(detail)"
        case .stateBelongsToAnotherIdentity(let user, let device):
            "the state file belongs to user \(user) device \(device)"
        case .system(let operation, let errno): "\(operation) failed: \(ClientError.errnoName(errno))"
        case .invalidConfiguration(let detail): "invalid configuration: \(detail)"
        case .invalidPushToken(let size, let limit): "a push token of \(size) bytes is not within 1...\(limit)"
        }
    }

    /// The C library's text for an errno value.
    static func errnoName(_ value: Int32) -> String {
        guard let text = strerror(value) else { return "errno \(value)" }
        return "\(String(cString: text)) (errno \(value))"
    }
}
