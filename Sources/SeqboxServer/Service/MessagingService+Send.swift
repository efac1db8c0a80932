import SeqboxFormat
import SeqboxProtocol
import SeqboxStore

extension MessagingService {
    /// SEND (PROTOCOL.md §5.5–5.6): validate, rate-limit, check the recipient's blocklist, run
    /// the content filter, then append the recipient's copy and the sender's outgoing copy in
    /// one atomic batch. SEND_OK goes out once both are durable; a retried SEND (same sender,
    /// device and client message ID) stores nothing and gets the original seqs back.
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
        writesInFlight.add(1, ordering: .sequentiallyConsistent)
        let connection = session.connection
        // The completion keeps the key fields only, not the body, while the append is queued.
        let sent = SentMessage(recipient: recipient, sender: identity.user, clientMessageID: incoming.clientMessageID,
                               timestampMs: timestampMs)
        store.append(batch: [incoming, outgoing]) { [self] result in
            defer { writesInFlight.subtract(1, ordering: .sequentiallyConsistent) }
            switch result {
            case .success(let results):
                completeSend(results, sent, requestID: requestID, connection: connection)
            case .failure(let failure):
                log.log(failure.isTransient ? .debug : .warning, "send_failed", "user=\(identity.user) to=\(recipient) error=\"\(failure)\"")
                connection.send(.error(WireValues.error(for: failure, retryAfterMs: configuration.retryAfterUnavailableMs)), requestID: requestID)
            }
        }
    }

    /// The ERROR a SEND gets before touching the store, or nil when it may be stored.
    /// Order: shutdown, values, size, rate limit, blocklist, content.
    private func sendRefusal(_ send: Frame.Send, from identity: SessionIdentity) -> Frame.ErrorReport? {
        if shuttingDown.load(ordering: .relaxed) { return shuttingDownReport }
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
        if store.isBlocked(user: recipient, blocked: identity.user) {
            return Frame.ErrorReport(code: .blocked, message: "the recipient blocks you")
        }
        if case .reject(let reason) = contentFilter.inspect(ContentCandidate(sender: identity.user, recipient: recipient, body: send.body)) {
            return Frame.ErrorReport(code: .contentRejected, message: reason)
        }
        return nil
    }

    /// On the store's writer thread, once both copies are durable: SEND_OK, then NOTIFYs.
    private func completeSend(_ results: [AppendResult], _ message: SentMessage, requestID: UInt32, connection: any ConnectionHandle) {
        precondition(results.count == 2, "a SEND appends exactly two records")
        let (received, sent) = (results[0], results[1])
        if received.duplicate != sent.duplicate {
            // The idempotency window kept one key of the pair but not the other: one copy was
            // stored again. Not expected within the window; worth knowing.
            log.warning("send_half_duplicate", "user=\(message.sender) to=\(message.recipient) client_message_id=\(message.clientMessageID)")
        }
        var timestampMs = message.timestampMs
        if received.duplicate {
            counters.sendsDuplicate.add(1, ordering: .relaxed)
            timestampMs = storedTimestamp(user: message.recipient, seq: received.seq) ?? timestampMs
        } else {
            counters.sendsStored.add(1, ordering: .relaxed)
        }
        connection.send(.sendOK(Frame.SendOK(seq: received.seq.rawValue, outgoingSeq: sent.seq.rawValue,
                                             timestampMs: timestampMs, duplicate: received.duplicate)), requestID: requestID)
        if !received.duplicate { pushPath.mailboxGrew(user: message.recipient, seq: received.seq, pushIfOffline: true) }
        if !sent.duplicate {
            pushPath.mailboxGrew(user: message.sender, seq: sent.seq, excluding: connection.id, pushIfOffline: false)
        }
    }

    /// The timestamp the message at `seq` was stored with (for a duplicate's SEND_OK).
    private func storedTimestamp(user: UserID, seq: Seq) -> UInt64? {
        guard seq.rawValue > 0, let read = try? store.read(user: user, after: Seq(seq.rawValue - 1), limit: 1),
              let message = read.messages.first, message.seq == seq else { return nil }
        return message.timestampMs
    }
}

/// What a SEND's completion needs of the message.
struct SentMessage: Sendable {
    var recipient: UserID
    var sender: UserID
    var clientMessageID: ClientMessageID
    var timestampMs: UInt64
}

extension StoreError {
    /// Failures a client retries (logged quietly).
    var isTransient: Bool {
        switch self {
        case .overloaded, .closed: true
        default: false
        }
    }
}
