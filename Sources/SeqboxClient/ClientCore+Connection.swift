import SeqboxProtocol

/// Writing requests and losing connections: the bookkeeping every phase shares.
extension ClientCore {
    /// Writes `frame` as a new request on the current connection; returns its request ID.
    @discardableResult
    mutating func write(_ frame: Frame, kind: Pending.Kind, now: UInt64) -> UInt32 {
        precondition(connection != nil, "write without a connection")
        var requestID = connection!.nextRequestID
        while requestID == 0 || connection!.inFlight[requestID] != nil { requestID &+= 1 }
        connection!.nextRequestID = requestID &+ 1
        connection!.inFlight[requestID] = Pending(kind: kind, sentAt: now)
        connection!.lastWriteAt = now
        append(.write(frame, requestID: requestID))
        return requestID
    }

    /// Ends the connection (or connect attempt) and schedules the next one (§7).
    mutating func disconnect(_ reason: DisconnectReason, now: UInt64) {
        if let connection {
            settleAfterConnectionLoss(connection)
        }
        if connection != nil || isConnecting { append(.close) }
        connection = nil
        let delay = backoff.delay(attempt: failedAttempts, serverFloorMs: serverReconnectFloorMs, random: &random)
        failedAttempts += 1
        serverReconnectFloorMs = 0
        phase = .waiting(until: now + delay)
        emit(.disconnected(reason, reconnectInMs: delay))
    }

    /// What a lost connection means for its requests: all of them are answered "maybe". Those
    /// known stored (their outgoing copy was pulled) are reported sent; the rest stay queued
    /// and go out again on the next connection.
    private mutating func settleAfterConnectionLoss(_ connection: Connection) {
        for (_, pending) in connection.inFlight.sorted(by: { $0.key < $1.key }) {
            if case .send(let entry) = pending.kind, let copySeq = storedWhileInFlight.removeValue(forKey: entry.clientMessageID) {
                emit(.sent(SendReceipt(clientMessageID: entry.clientMessageID, recipient: entry.recipient, seq: nil,
                                       outgoingSeq: copySeq, timestampMs: 0, duplicate: false)))
            }
        }
        for index in blockRequests.indices { blockRequests[index].requestID = nil }
        for index in historyRequests.indices { historyRequests[index].requestID = nil }
        pushRequest?.requestID = nil
        pullRetryAt = 0
    }

    /// Stops after the server refused the login for good.
    mutating func stopRefused(_ report: Frame.ErrorReport, now: UInt64) {
        stop(now: now, reason: .refused(report.code, report.message))
    }
}
