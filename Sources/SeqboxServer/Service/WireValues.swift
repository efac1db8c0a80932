import SeqboxFormat
import SeqboxProtocol
import SeqboxStore

/// Conversions between the store's values and the wire's.
enum WireValues {
    /// The wire epoch of a store epoch: the same number. Both start at 1 (`Epoch.initial`,
    /// PROTOCOL.md §11); 0 is never a mailbox's epoch (in PULL it means "unknown").
    static func epoch(_ epoch: Epoch) -> UInt32 {
        assert(epoch.rawValue >= Epoch.initial.rawValue, "epochs start at 1")
        return epoch.rawValue
    }

    /// The ERROR for a store failure of a write (append, ack, block).
    static func error(for failure: StoreError, retryAfterMs: UInt32) -> Frame.ErrorReport {
        switch failure {
        case .sequenceExhausted:
            return Frame.ErrorReport(code: .sequenceExhausted, message: "the recipient's mailbox is full")
        case .payloadTooLarge(let size, let max):
            return Frame.ErrorReport(code: .payloadTooLarge, message: "body of \(size) bytes exceeds \(max)")
        case .overloaded:
            return Frame.ErrorReport(code: .overloaded, retryAfterMs: retryAfterMs, message: "too many pending writes")
        case .closed, .diskFull, .failedEarlier, .io, .storeLocked:
            return Frame.ErrorReport(code: .unavailable, retryAfterMs: retryAfterMs, message: "store unavailable")
        case .invalidArgument(let detail):
            return Frame.ErrorReport(code: .badRequest, message: detail)
        case .corrupt, .corruptFile, .unsupportedVersion:
            return Frame.ErrorReport(code: .internal, message: "store error")
        }
    }
}
