import SeqboxProtocol

/// Why a client stopped for good.
public enum StopReason: Equatable, Sendable, CustomStringConvertible {
    /// `stop()` was called.
    case requested
    /// The server refused the credentials (`authFailed`, `tokenExpired`) or the protocol
    /// version (`unsupportedVersion`): retrying would not help.
    case refused(ErrorCode, String)
    /// The same user and device logged in elsewhere (GOODBYE `replaced`).
    case replaced
    /// The state could not be saved; nothing more is acknowledged or sent.
    case stateNotSaved(ClientError)
    /// The server's mailbox is behind the seq this client holds, in the same epoch: the server
    /// lost acknowledged records without saying so. Continuing would deliver reused seqs.
    case serverBehind(heldSeq: UInt32, newestSeq: UInt32, epoch: UInt32)

    public var description: String {
        switch self {
        case .requested: "stopped"
        case .refused(let code, let message): "refused by the server: \(code)\(message.isEmpty ? "" : " (\(message))")"
        case .replaced: "replaced by another login of this device"
        case .stateNotSaved(let error): "state not saved: \(error)"
        case .serverBehind(let held, let newest, let epoch):
            "the server's newest seq \(newest) is below the held seq \(held) in epoch \(epoch)"
        }
    }
}
