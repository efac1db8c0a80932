import SeqboxFormat
import SeqboxSystem

/// Errors a store caller can act on.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The mailbox's seq reached 2^32-1; nothing was written.
    case sequenceExhausted(UserID)
    /// The payload exceeds `FormatConstants.payloadSizeMax`; nothing was written.
    case payloadTooLarge(size: Int, max: Int)
    /// Another process holds the store's lock file.
    case storeLocked(path: String)
    /// The disk is full; nothing was written. Appends work again once space is freed.
    case diskFull(String)
    /// Opening found corruption and the policy is `.refuse`; the report says what and where.
    case corrupt(RecoveryReport)
    /// A file is not what it should be (bad magic, truncated, failing its checksum).
    case corruptFile(path: String, reason: String)
    /// A file was written by a format version this code does not know.
    case unsupportedVersion(path: String, version: UInt16)
    /// An I/O call failed.
    case io(SystemError)
    /// A sync failed earlier; the store accepts no more writes until reopened, because the
    /// kernel may have dropped the unsynced pages ("fsyncgate").
    case failedEarlier(String)
    /// Too many appends are waiting for the writer.
    case overloaded
    /// The store is closed.
    case closed
    /// A bad argument (a limit out of range, an ack beyond the newest seq, …).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .sequenceExhausted(let user): "mailbox \(user) has used every sequence number"
        case .payloadTooLarge(let size, let max): "payload of \(size) bytes exceeds the maximum of \(max)"
        case .storeLocked(let path): "store is locked by another process (\(path))"
        case .diskFull(let detail): "disk full: \(detail)"
        case .corrupt(let report): "store is corrupt: \(report.summary)"
        case .corruptFile(let path, let reason): "\(path): \(reason)"
        case .unsupportedVersion(let path, let version): "\(path): unsupported format version \(version)"
        case .io(let error): "I/O error: \(error)"
        case .failedEarlier(let detail): "store stopped accepting writes after a failed sync: \(detail)"
        case .overloaded: "too many pending appends"
        case .closed: "store is closed"
        case .invalidArgument(let detail): "invalid argument: \(detail)"
        }
    }

    /// Maps an I/O failure, telling a full disk apart.
    static func from(_ error: SystemError) -> StoreError {
        error.errno.isDiskFull ? .diskFull(error.description) : .io(error)
    }
}
