import SeqboxFormat
import SeqboxProtocol
import SeqboxStore

extension MessagingService {
    /// SEND (PROTOCOL.md §5.5–5.6): validate, rate-limit, run the content filter, then store the
    /// recipient's copy (checking its blocklist) and the sender's outgoing copy
    /// (`MailboxBackend.storeSend`: one atomic group when both live on one shard). SEND_OK goes
    /// out once both are durable; a retried SEND (same sender, device and client message ID)
    /// stores nothing and gets the original seqs back.
    func handleSend(_ send: Frame.Send, requestID: UInt32, session: Session, as identity: SessionIdentity) {
        if let refusal = sendRefusal(send, from: identity) {
            if refusal.code != .rateLimited {
                log.debug("send_refused", "user=\(identity.user) to=\(send.to) code=\(refusal.code)")
            }
            refuse(session, requestID: requestID, refusal)
            return
        }
        let recipient = UserID(send.to)
        let timestampMs = configuration.wallClockMs()
        let incoming = NewMessage(user: recipient, sender: identity.user, device: identity.device,
                                  clientMessageID: ClientMessageID(send.clientMessageID), timestampMs: timestampMs,
                                  payload: send.body)
        // The outgoing copy's `sender` field holds the peer (the recipient): PROTOCOL.md §13.
        let outgoing = NewMessage(user: identity.user, sender: recipient, device: identity.device,
                                  clientMessageID: ClientMessageID(send.clientMessageID), timestampMs: timestampMs,
                                  payload: send.body, outgoing: true)
        // `sendRefusal` answered a SEND arriving after shutdown began; this closes the window
        // between that check and counting the write.
        guard writes.tryBegin() else {
            refuse(session, requestID: requestID, shuttingDownReport)
            return
        }
        let connection = session.connection
        // The completion keeps the key fields only, not the body, while the append is queued
        // (and the push preview's first bytes when previews are on).
        let sent = SentMessage(recipient: recipient, sender: identity.user, clientMessageID: incoming.clientMessageID,
                               preview: pushPath.preview(of: send.body))
        backend.storeSend(incoming: incoming, outgoing: outgoing) { [self] result in
            defer { writes.end() }
            switch result {
            case .success(let copies):
                completeSend(received: copies.received, sent: copies.sent, sent, requestID: requestID, connection: connection)
            case .failure(let report):
                if report.code != .blocked {
                    log.log(report.code == .unavailable || report.code == .overloaded ? .debug : .warning, "send_failed",
                            "user=\(identity.user) to=\(recipient) error=\"\(report.message)\"")
                }
                refuse(connection, requestID: requestID, report)
            }
        }
    }

    /// The ERROR a SEND gets before touching the store, or nil when it may be stored.
    /// Order: shutdown, values, size, rate limit, content; the
    /// recipient's blocklist is checked where the mailbox lives, in the same step as the append.
    private func sendRefusal(_ send: Frame.Send, from identity: SessionIdentity) -> Frame.ErrorReport? {
        if writes.isClosed { return shuttingDownReport }
        guard send.to != 0, send.to != identity.user.rawValue else {
            return Frame.ErrorReport(code: .badRequest, message: send.to == 0 ? "recipient 0" : "a message to oneself")
        }
        guard send.clientMessageID != 0 else { return Frame.ErrorReport(code: .badRequest, message: "client message ID 0") }
        guard send.body.count <= configuration.messageBodySizeMax else {
            return Frame.ErrorReport(code: .payloadTooLarge, message: "body of \(send.body.count) bytes exceeds \(configuration.messageBodySizeMax)")
        }
        if case .limited(let retryAfterMs) = rateLimiter.admit(identity.user.rawValue) {
            return Frame.ErrorReport(code: .rateLimited, retryAfterMs: retryAfterMs, message: "slow down")
        }
        let recipient = UserID(send.to)
        if case .reject(let reason) = contentFilter.inspect(ContentCandidate(sender: identity.user, recipient: recipient, body: send.body)) {
            return Frame.ErrorReport(code: .contentRejected, message: reason)
        }
        return nil
    }

    /// Once both copies are durable (on the backend's completion thread): SEND_OK, then NOTIFYs.
    private func completeSend(received: StoredCopy, sent: StoredCopy, _ message: SentMessage, requestID: UInt32, connection: any ConnectionHandle) {
        if received.duplicate != sent.duplicate {
            // One copy of the pair was stored before and the other not: a retry after a failure
            // between the two copies of a SEND across shards, or a key that left the window.
            log.info("send_half_duplicate", "user=\(message.sender) to=\(message.recipient) client_message_id=\(message.clientMessageID)")
        }
        if received.duplicate {
            counters.sendsDuplicate.add(1, ordering: .relaxed)
        } else {
            counters.sendsStored.add(1, ordering: .relaxed)
        }
        connection.send(.sendOK(Frame.SendOK(seq: received.seq.rawValue, outgoingSeq: sent.seq.rawValue,
                                             timestampMs: received.timestampMs, duplicate: received.duplicate)), requestID: requestID)
        if !received.duplicate {
            pushPath.mailboxGrew(user: message.recipient, to: received, sender: message.sender, pushIfOffline: true, preview: message.preview)
        }
        if !sent.duplicate {
            pushPath.mailboxGrew(user: message.sender, to: sent, sender: message.sender, excluding: connection.id, pushIfOffline: false)
        }
    }
}

/// What a SEND's completion needs of the message.
struct SentMessage: Sendable {
    var recipient: UserID
    var sender: UserID
    var clientMessageID: ClientMessageID
    /// The offline push preview (the body's first bytes), nil unless previews are on.
    var preview: [UInt8]?
}
