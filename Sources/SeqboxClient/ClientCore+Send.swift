import SeqboxProtocol

/// The outbox (PROTOCOL.md §5.5, §7, §10.1): SENDs with one client message ID each, retried
/// until SEND_OK or a final refusal, at most one in flight per recipient so a conversation
/// keeps the order the application wrote it in.
extension ClientCore {
    /// Writes the SENDs that may go out now.
    mutating func pumpSends(now: UInt64) {
        guard configuration.syncsMailbox, connection != nil, isLoggedIn, !state.outbox.isEmpty else { return }
        for (id, time) in sendRetryAt where time <= now { sendRetryAt[id] = nil }
        let inFlightMax = min(configuration.sendsInFlightMax, max(1, requestsInFlightMax - ClientCore.requestsReservedForControl))
        var budget = inFlightMax - connection!.sendByRecipient.count
        guard budget > 0 else { return }
        var recipientsSeen: Set<UInt64> = []
        for entry in state.outbox {
            // Only the oldest unanswered message of each recipient may be in flight.
            guard recipientsSeen.insert(entry.recipient).inserted else { continue }
            guard connection!.sendByRecipient[entry.recipient] == nil else { continue }
            guard sendRetryAt[entry.clientMessageID] == nil else { continue }
            // Sync first (§10.1): a message that went out before may be stored already, which
            // its outgoing copy in the mailbox shows; only this sync can tell.
            guard phase == .live || neverWritten.contains(entry.clientMessageID) else { continue }
            let send = Frame.Send(to: entry.recipient, clientMessageID: entry.clientMessageID, body: entry.body)
            connection!.sendByRecipient[entry.recipient] = write(.send(send), kind: .send(entry), now: now)
            neverWritten.remove(entry.clientMessageID)
            statistics.sendsWritten += 1
            if !everWritten.insert(entry.clientMessageID).inserted { statistics.resends += 1 }
            budget -= 1
            if budget == 0 { return }
        }
    }

    /// SEND_OK: the message is stored; drop it from the outbox. Its outgoing copy grew this
    /// user's own mailbox, and the server sends no NOTIFY for that to this connection (the
    /// reply carries the seq, §5.10): pull up to it.
    mutating func sendSucceeded(_ entry: OutboxEntry, _ ok: Frame.SendOK, requestID: UInt32) {
        releaseRecipient(entry.recipient, requestID: requestID)
        if connection != nil { connection!.targetSeq = max(connection!.targetSeq, ok.outgoingSeq) }
        storedWhileInFlight[entry.clientMessageID] = nil
        removeFromOutbox(entry.clientMessageID)
        emit(.sent(SendReceipt(clientMessageID: entry.clientMessageID, recipient: entry.recipient, seq: ok.seq,
                               outgoingSeq: ok.outgoingSeq, timestampMs: ok.timestampMs, duplicate: ok.duplicate)))
    }

    /// ERROR for a SEND: retry later, or report the final refusal (§9).
    mutating func sendRefused(_ entry: OutboxEntry, _ report: Frame.ErrorReport, requestID: UInt32, now: UInt64) {
        releaseRecipient(entry.recipient, requestID: requestID)
        let id = entry.clientMessageID
        if let copySeq = storedWhileInFlight.removeValue(forKey: id) {
            // Its outgoing copy was pulled: stored, whatever this answer says.
            emit(.sent(SendReceipt(clientMessageID: id, recipient: entry.recipient, seq: nil,
                                   outgoingSeq: copySeq, timestampMs: 0, duplicate: false)))
            return
        }
        var retry = ClientCore.isRetryable(report)
        if report.code == .internal {
            internalErrors[id, default: 0] += 1
            retry = internalErrors[id]! <= configuration.internalErrorRetriesMax
        }
        if retry {
            sendRetryAt[id] = now + retryDelay(report)
            return
        }
        removeFromOutbox(id)
        emit(.sendFailed(SendFailure(clientMessageID: id, recipient: entry.recipient, code: report.code, message: report.message)))
    }

    /// The sync pulled this device's own outgoing copy of a message: if it is still in the
    /// outbox, it is stored. Returns its receipt, unless a SEND for it is in flight (then the
    /// SEND_OK, with the recipient's seq, is awaited; the connection's loss settles it).
    mutating func ownCopyPulled(clientMessageID id: UInt64, copySeq: UInt32, timestampMs: UInt64) -> SendReceipt? {
        guard let entry = state.outbox.first(where: { $0.clientMessageID == id }) else { return nil }
        removeFromOutbox(id)
        let inFlight = connection?.inFlight.values.contains { pending in
            if case .send(let sent) = pending.kind { return sent.clientMessageID == id }
            return false
        } ?? false
        if inFlight {
            storedWhileInFlight[id] = copySeq
            return nil
        }
        return SendReceipt(clientMessageID: id, recipient: entry.recipient, seq: nil, outgoingSeq: copySeq,
                           timestampMs: timestampMs, duplicate: false)
    }

    private mutating func releaseRecipient(_ recipient: UInt64, requestID: UInt32) {
        if connection?.sendByRecipient[recipient] == requestID { connection!.sendByRecipient[recipient] = nil }
    }

    private mutating func removeFromOutbox(_ id: UInt64) {
        guard let index = state.outbox.firstIndex(where: { $0.clientMessageID == id }) else { return }
        updateState { $0.outbox.remove(at: index) }
        sendRetryAt[id] = nil
        internalErrors[id] = nil
        neverWritten.remove(id)
        everWritten.remove(id)
    }
}
