import Dispatch
import SeqboxFormat
import SeqboxProtocol
import SeqboxStore

extension MessagingService {
    /// ACK (PROTOCOL.md §5.11–5.12): moves the device's cursor to max(cursor, seq), durably,
    /// then answers ACK_OK with the cursor.
    func handleAck(_ ack: Frame.Ack, requestID: UInt32, session: Session, as identity: SessionIdentity) {
        if shuttingDown.load(ordering: .relaxed) {
            refuse(session, requestID: requestID, shuttingDownReport)
            return
        }
        let newest = store.newestSeq(user: identity.user)
        guard ack.seq <= newest.rawValue else {
            refuse(session, requestID: requestID, Frame.ErrorReport(code: .badRequest, message: "ack \(ack.seq) is beyond the newest seq \(newest)"))
            return
        }
        counters.acks.add(1, ordering: .relaxed)
        writesInFlight.add(1, ordering: .sequentiallyConsistent)
        let connection = session.connection
        store.ack(user: identity.user, device: identity.device, seq: Seq(ack.seq)) { [self] result in
            defer { writesInFlight.subtract(1, ordering: .sequentiallyConsistent) }
            switch result {
            case .success:
                let cursor = store.cursor(user: identity.user, device: identity.device)
                connection.send(.ackOK(Frame.AckOK(seq: max(cursor.rawValue, ack.seq))), requestID: requestID)
            case .failure(let failure):
                log.log(failure.isTransient ? .debug : .warning, "ack_failed", "user=\(identity.user) device=\(identity.device) error=\"\(failure)\"")
                connection.send(.error(WireValues.error(for: failure, retryAfterMs: configuration.retryAfterUnavailableMs)), requestID: requestID)
            }
        }
    }

    /// BLOCK / UNBLOCK (PROTOCOL.md §5.13–5.15): changes the logged-in user's own blocklist,
    /// durably, then answers BLOCK_OK. The store's blocklist calls wait for the disk, so they
    /// run on a serial queue (keeping one connection's BLOCK and UNBLOCK in order).
    func changeBlock(of other: UserID, blocked: Bool, requestID: UInt32, session: Session, as identity: SessionIdentity) {
        if shuttingDown.load(ordering: .relaxed) {
            refuse(session, requestID: requestID, shuttingDownReport)
            return
        }
        guard other.rawValue != 0, other != identity.user else {
            refuse(session, requestID: requestID, Frame.ErrorReport(code: .badRequest, message: other.rawValue == 0 ? "user 0" : "cannot block oneself"))
            return
        }
        guard blocklistWritesPending.add(1, ordering: .relaxed).newValue <= MessagingService.blocklistWritesPendingMax else {
            blocklistWritesPending.subtract(1, ordering: .relaxed)
            refuse(session, requestID: requestID, Frame.ErrorReport(code: .overloaded, retryAfterMs: configuration.retryAfterUnavailableMs, message: "too many blocklist changes"))
            return
        }
        writesInFlight.add(1, ordering: .sequentiallyConsistent)
        let connection = session.connection
        let user = identity.user
        blocklistQueue.async { [self] in
            defer {
                blocklistWritesPending.subtract(1, ordering: .relaxed)
                writesInFlight.subtract(1, ordering: .sequentiallyConsistent)
            }
            do throws(StoreError) {
                if blocked { try store.block(user: user, blocked: other) } else { try store.unblock(user: user, blocked: other) }
                log.debug(blocked ? "block" : "unblock", "user=\(user) other=\(other)")
                connection.send(.blockOK(Frame.BlockOK(user: other.rawValue, blocked: blocked)), requestID: requestID)
            } catch {
                log.log(error.isTransient ? .debug : .warning, "block_failed", "user=\(user) other=\(other) error=\"\(error)\"")
                connection.send(.error(WireValues.error(for: error, retryAfterMs: configuration.retryAfterUnavailableMs)), requestID: requestID)
            }
        }
    }
}
