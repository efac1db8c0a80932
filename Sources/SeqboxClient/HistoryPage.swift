import SeqboxProtocol

/// One page of history (`MailboxClient.history`), read without touching the held seq.
public struct HistoryPage: Equatable, Sendable {
    /// The records after the requested seq, ascending.
    public var messages: [InboxMessage]
    /// More records follow the last one.
    public var hasMore: Bool
    /// The mailbox's newest seq.
    public var newestSeq: UInt32
    /// The mailbox epoch.
    public var epoch: UInt32
    /// When the requested range starts below the retained records: the oldest seq retained
    /// (ask again after `expiredBefore - 1`). Nil otherwise.
    public var expiredBefore: UInt32?
}

/// Why a history request failed.
public enum HistoryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The server refused it (`badRequest`: after is above the newest seq).
    case refused(ErrorCode, String)
    /// The client stopped before an answer came.
    case stopped

    public var description: String {
        switch self {
        case .refused(let code, let message): "refused: \(code)\(message.isEmpty ? "" : " (\(message))")"
        case .stopped: "the client stopped"
        }
    }
}
