import SeqboxProtocol

/// Syncing the mailbox (PROTOCOL.md §10.1, §11): the starting point at LOGIN_OK, PULL until
/// caught up, exactly-once in-order delivery, explicit gaps and epoch changes, ACK.
extension ClientCore {
    /// LOGIN_OK: choose where to sync from, then sync.
    mutating func loggedIn(_ login: Frame.LoginOK, now: UInt64) {
        failedAttempts = 0
        statistics.logins += 1
        if state.isFresh {
            // Nothing held: start where the server says this device is (its cursor, or for a
            // new device the user's confirmed seq, or the first retained seq with fullHistory).
            updateState { $0.epoch = login.epoch; $0.heldSeq = login.deviceCursor }
        } else if login.epoch != state.epoch {
            let old = state.epoch
            updateState { $0.epoch = login.epoch }
            emit(.epochChanged(from: old, to: login.epoch))
        }
        // Seqs are never reused and newestSeq never goes back (§11): a mailbox behind what
        // this device holds lost acknowledged records silently. Stop rather than take reused
        // seqs for new ones.
        guard state.heldSeq <= login.newestSeq else {
            stop(now: now, reason: .serverBehind(heldSeq: state.heldSeq, newestSeq: login.newestSeq, epoch: login.epoch))
            return
        }
        if login.firstSeq > 0, state.heldSeq < login.firstSeq - 1 {
            reportExpired(upTo: login.firstSeq - 1)
        }
        connection!.targetSeq = login.newestSeq
        connection!.ackedSeq = login.deviceCursor
        emit(.connected(LoginSummary(newestSeq: login.newestSeq, confirmedSeq: login.confirmedSeq,
                                     heldSeq: state.heldSeq, firstSeq: login.firstSeq, epoch: login.epoch)))
        phase = .syncing
        if !configuration.syncsMailbox || state.heldSeq >= login.newestSeq { finishSync() }
    }

    /// A PULL_OK for the sync: deliver the new records in order, then pull on or finish.
    mutating func pulled(_ page: Frame.PullOK, now: UInt64) {
        connection!.pullRequestID = nil
        if page.epoch != state.epoch {
            let old = state.epoch
            updateState { $0.epoch = page.epoch }
            emit(.epochChanged(from: old, to: page.epoch))
        }
        var delivered: [InboxMessage] = []
        var receipts: [SendReceipt] = []
        var held = state.heldSeq
        for record in page.records where record.seq > held {
            if record.seq != held + 1 {
                // Within an epoch records are contiguous; a skipped seq is a lost message (§11).
                if !delivered.isEmpty { emit(.messages(delivered)) }
                delivered.removeAll()
                emit(.gap(SeqGap(first: held + 1, last: record.seq - 1, reason: .lost)))
            }
            delivered.append(InboxMessage(record))
            held = record.seq
            if record.outgoing, record.senderDevice == configuration.device,
               let receipt = ownCopyPulled(clientMessageID: record.clientMessageID, copySeq: record.seq, timestampMs: record.timestampMs) {
                receipts.append(receipt)
            }
        }
        if !delivered.isEmpty { emit(.messages(delivered)) }
        if held != state.heldSeq { updateState { $0.heldSeq = held } }
        for receipt in receipts { emit(.sent(receipt)) }
        connection!.targetSeq = max(connection!.targetSeq, page.newestSeq)
        connection!.batchesSinceAck += 1
        if page.hasMore, page.records.isEmpty {
            disconnect(.protocolViolation("PULL_OK with hasMore and no records"), now: now)
            return
        }
        if !page.hasMore, state.heldSeq >= connection!.targetSeq, phase == .syncing { finishSync() }
    }

    /// TRUNCATED for the sync: a new epoch, or records deleted by retention (§11).
    mutating func pullTruncated(_ truncated: Frame.Truncated, now: UInt64) {
        connection!.pullRequestID = nil
        var explained = false
        if truncated.epoch != state.epoch {
            let old = state.epoch
            updateState { $0.epoch = truncated.epoch }
            emit(.epochChanged(from: old, to: truncated.epoch))
            explained = true
        }
        connection!.epochCheckDue = false
        if truncated.firstSeq > 0, state.heldSeq < truncated.firstSeq - 1 {
            reportExpired(upTo: truncated.firstSeq - 1)
            explained = true
        }
        guard state.heldSeq <= truncated.newestSeq else {
            stop(now: now, reason: .serverBehind(heldSeq: state.heldSeq, newestSeq: truncated.newestSeq, epoch: truncated.epoch))
            return
        }
        guard explained else {
            disconnect(.protocolViolation("TRUNCATED for a pull in the current epoch and range"), now: now)
            return
        }
        connection!.targetSeq = max(connection!.targetSeq, truncated.newestSeq)
        if state.heldSeq >= connection!.targetSeq, phase == .syncing { finishSync() }
    }

    /// Records up to `last` expired on the server: report the gap, continue after it.
    private mutating func reportExpired(upTo last: UInt32) {
        emit(.gap(SeqGap(first: state.heldSeq + 1, last: last, reason: .expired)))
        updateState { $0.heldSeq = last }
    }

    /// Caught up after LOGIN_OK: the phase where every message may be (re)sent.
    private mutating func finishSync() {
        phase = .live
        emit(.synced(heldSeq: state.heldSeq))
    }

    /// The PULL, ACK and PING this connection needs now.
    mutating func pumpSync(now: UInt64) {
        guard connection != nil, isLoggedIn else { return }
        if pullRetryAt > 0, now >= pullRetryAt { pullRetryAt = 0 }
        let wantsPull = phase == .syncing || state.heldSeq < connection!.targetSeq || connection!.epochCheckDue
        if configuration.syncsMailbox, wantsPull, connection!.pullRequestID == nil, pullRetryAt == 0 {
            let limit = max(min(configuration.pullLimit, connection!.server?.pullLimitMax ?? configuration.pullLimit), 1)
            let pull = Frame.Pull(after: state.heldSeq, epoch: state.epoch, limit: limit)
            connection!.pullRequestID = write(.pull(pull), kind: .pull, now: now)
            statistics.pullsWritten += 1
            connection!.epochCheckDue = false
        }
        let caughtUp = phase == .live && connection!.pullRequestID == nil
        let longSync = connection!.batchesSinceAck >= ClientCore.ackEveryBatches
        if configuration.syncsMailbox, !connection!.ackInFlight, state.heldSeq > connection!.ackedSeq, caughtUp || longSync {
            write(.ack(Frame.Ack(seq: state.heldSeq)), kind: .ack(state.heldSeq), now: now)
            connection!.ackInFlight = true
            connection!.batchesSinceAck = 0
        }
        if connection!.server != nil, !connection!.pingInFlight, now >= connection!.lastWriteAt + heartbeatIntervalMs {
            pingNonce &+= 1
            write(.ping(Frame.Ping(nonce: pingNonce)), kind: .ping, now: now)
            connection!.pingInFlight = true
        }
    }

    /// Everything that can go out now: sync requests, blocks, history reads, push
    /// registration, messages.
    mutating func pump(now: UInt64) {
        guard connection != nil, isLoggedIn else { return }
        pumpSync(now: now)
        pumpBlocksAndHistory(now: now)
        pumpPush(now: now)
        pumpSends(now: now)
    }

    private mutating func pumpBlocksAndHistory(now: UInt64) {
        let budget = requestsInFlightMax - 2
        for index in blockRequests.indices where blockRequests[index].requestID == nil {
            guard connection!.inFlight.count < budget else { return }
            guard blockRequests[index].retryAt <= now else { continue }
            let request = blockRequests[index]
            let frame: Frame = request.blocked ? .block(Frame.Block(user: request.user)) : .unblock(Frame.Unblock(user: request.user))
            blockRequests[index].requestID = write(frame, kind: .block(id: request.id), now: now)
            blockRequests[index].retryAt = 0
        }
        for index in historyRequests.indices where historyRequests[index].requestID == nil {
            guard connection!.inFlight.count < budget else { return }
            guard historyRequests[index].retryAt <= now else { continue }
            let request = historyRequests[index]
            let limit = min(request.limit, connection!.server?.pullLimitMax ?? request.limit)
            // Epoch 0: "I know none", so the server answers from any epoch (§5.7).
            historyRequests[index].requestID = write(.pull(Frame.Pull(after: request.after, epoch: 0, limit: max(limit, 1))),
                                                     kind: .history(id: request.id), now: now)
            historyRequests[index].retryAt = 0
        }
    }
}
