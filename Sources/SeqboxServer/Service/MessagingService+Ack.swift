import SeqboxFormat
import SeqboxProtocol

extension MessagingService {
    /// ACK (PROTOCOL.md §5.11–5.12): moves the device's cursor to max(cursor, seq), durably,
    /// then answers ACK_OK with the cursor.
    func handleAck(_ ack: Frame.Ack, requestID: UInt32, session: Session, as identity: SessionIdentity) {
        guard writes.tryBegin() else {
            refuse(session, requestID: requestID, shuttingDownReport)
            return
        }
        counters.acks.add(1, ordering: .relaxed)
        let connection = session.connection
        backend.ack(user: identity.user, device: identity.device, seq: Seq(ack.seq)) { [self] result in
            defer { writes.end() }
            switch result {
            case .success(let cursor): connection.send(.ackOK(Frame.AckOK(seq: cursor.rawValue)), requestID: requestID)
            case .failure(let report): refuse(connection, requestID: requestID, report)
            }
        }
    }

    /// BLOCK / UNBLOCK (PROTOCOL.md §5.13–5.15): changes the logged-in user's own blocklist,
    /// durably, then answers BLOCK_OK. At most `blocklistWritesPendingMax` wait at once.
    func changeBlock(of other: UserID, blocked: Bool, requestID: UInt32, session: Session, as identity: SessionIdentity) {
        guard other.rawValue != 0, other != identity.user else {
            refuse(session, requestID: requestID, Frame.ErrorReport(code: .badRequest, message: other.rawValue == 0 ? "user 0" : "cannot block oneself"))
            return
        }
        guard blocklistWritesPending.add(1, ordering: .relaxed).newValue <= MessagingService.blocklistWritesPendingMax else {
            blocklistWritesPending.subtract(1, ordering: .relaxed)
            refuse(session, requestID: requestID, Frame.ErrorReport(code: .overloaded, retryAfterMs: configuration.retryAfterUnavailableMs, message: "too many blocklist changes"))
            return
        }
        guard writes.tryBegin() else {
            blocklistWritesPending.subtract(1, ordering: .relaxed)
            refuse(session, requestID: requestID, shuttingDownReport)
            return
        }
        let connection = session.connection
        let user = identity.user
        backend.setBlocked(user: user, other: other, blocked: blocked) { [self] result in
            defer {
                blocklistWritesPending.subtract(1, ordering: .relaxed)
                writes.end()
            }
            switch result {
            case .success:
                log.debug(blocked ? "block" : "unblock", "user=\(user) other=\(other)")
                connection.send(.blockOK(Frame.BlockOK(user: other.rawValue, blocked: blocked)), requestID: requestID)
            case .failure(let report):
                refuse(connection, requestID: requestID, report)
            }
        }
    }
}
