import SeqboxProtocol

/// Frames from the server: replies matched to their requests by request ID, and the
/// unsolicited NOTIFY, GOODBYE and connection-level ERROR.
extension ClientCore {
    /// A decoded frame arrived on the current connection.
    mutating func received(_ decoded: DecodedFrame, now: UInt64) {
        guard connection != nil else { return }
        if decoded.requestID == 0 {
            receivedUnsolicited(decoded.frame, now: now)
        } else if let pending = connection!.inFlight.removeValue(forKey: decoded.requestID) {
            receivedReply(decoded.frame, to: pending, requestID: decoded.requestID, now: now)
        } else {
            disconnect(.protocolViolation("reply to unknown request \(decoded.requestID)"), now: now)
            return
        }
        if connection != nil { pump(now: now) }
    }

    private mutating func receivedUnsolicited(_ frame: Frame, now: UInt64) {
        switch frame {
        case .notify(let notify):
            connection!.targetSeq = max(connection!.targetSeq, notify.newestSeq)
            if notify.epoch != state.epoch, state.epoch != 0 { connection!.epochCheckDue = true }
        case .goodbye(let goodbye):
            if goodbye.reason == .replaced {
                stop(now: now, reason: .replaced)
            } else {
                serverReconnectFloorMs = UInt64(goodbye.reconnectAfterMs)
                disconnect(.goodbye(goodbye.reason), now: now)
            }
        case .error(let report):
            if report.code == .unsupportedVersion || report.code == .authFailed || report.code == .tokenExpired {
                stopRefused(report, now: now)
            } else {
                serverReconnectFloorMs = UInt64(report.retryAfterMs)
                disconnect(.serverError(report.code, report.message), now: now)
            }
        default:
            disconnect(.protocolViolation("\(frame.type) with request ID 0"), now: now)
        }
    }

    private mutating func receivedReply(_ frame: Frame, to pending: Pending, requestID: UInt32, now: UInt64) {
        if case .error(let report) = frame {
            receivedError(report, to: pending, requestID: requestID, now: now)
            if report.closing, connection != nil, phase != .stopped {
                serverReconnectFloorMs = max(serverReconnectFloorMs, UInt64(report.retryAfterMs))
                disconnect(.serverError(report.code, report.message), now: now)
            }
            return
        }
        switch (pending.kind, frame) {
        case (.hello, .helloOK(let hello)):
            guard hello.version == ProtocolConstants.protocolVersion else {
                disconnect(.protocolViolation("server chose version \(hello.version)"), now: now)
                return
            }
            connection!.server = hello
        case (.login, .loginOK(let login)):
            loggedIn(login, now: now)
        case (.send(let entry), .sendOK(let ok)):
            sendSucceeded(entry, ok, requestID: requestID)
        case (.pull, .pullOK(let page)):
            pulled(page, now: now)
        case (.pull, .truncated(let truncated)):
            pullTruncated(truncated, now: now)
        case (.ack(let seq), .ackOK):
            connection!.ackInFlight = false
            connection!.ackedSeq = max(connection!.ackedSeq, seq)
        case (.block(let id), .blockOK(let ok)):
            blockRequests.removeAll { $0.id == id }
            emit(.blockChanged(user: ok.user, blocked: ok.blocked))
        case (.history(let id), .pullOK(let page)):
            historyRequests.removeAll { $0.id == id }
            append(.historyResult(id: id, .success(HistoryPage(
                messages: page.records.map(InboxMessage.init), hasMore: page.hasMore,
                newestSeq: page.newestSeq, epoch: page.epoch, expiredBefore: nil))))
        case (.history(let id), .truncated(let truncated)):
            historyRequests.removeAll { $0.id == id }
            append(.historyResult(id: id, .success(HistoryPage(
                messages: [], hasMore: truncated.newestSeq >= truncated.firstSeq,
                newestSeq: truncated.newestSeq, epoch: truncated.epoch, expiredBefore: truncated.firstSeq))))
        case (.push(let id), .pushOK(let ok)):
            pushAnswered(id: id, ok)
        case (.ping, .pong):
            connection!.pingInFlight = false
        default:
            disconnect(.protocolViolation("\(frame.type) does not answer \(pending.kind)"), now: now)
        }
    }

    /// An ERROR answering one request (§9 says what to do for each code).
    private mutating func receivedError(_ report: Frame.ErrorReport, to pending: Pending, requestID: UInt32, now: UInt64) {
        let retryable = ClientCore.isRetryable(report)
        switch pending.kind {
        case .hello, .login:
            if report.code == .unsupportedVersion || report.code == .authFailed || report.code == .tokenExpired {
                stopRefused(report, now: now)
            } else if connection != nil {
                serverReconnectFloorMs = UInt64(report.retryAfterMs)
                disconnect(.serverError(report.code, report.message), now: now)
            }
        case .send(let entry):
            sendRefused(entry, report, requestID: requestID, now: now)
        case .pull:
            connection!.pullRequestID = nil
            if retryable {
                pullRetryAt = now + retryDelay(report)
            } else if !report.closing {
                // badRequest (held above newest) or a code this client does not know: log in
                // again, which checks the held seq against the mailbox.
                disconnect(.serverError(report.code, report.message), now: now)
            }
        case .ack:
            connection!.ackInFlight = false
        case .block(let id):
            guard let index = blockRequests.firstIndex(where: { $0.id == id }) else { return }
            if retryable {
                blockRequests[index].requestID = nil
                blockRequests[index].retryAt = now + retryDelay(report)
            } else {
                let request = blockRequests.remove(at: index)
                emit(.blockFailed(user: request.user, code: report.code))
            }
        case .history(let id):
            guard let index = historyRequests.firstIndex(where: { $0.id == id }) else { return }
            if retryable {
                historyRequests[index].requestID = nil
                historyRequests[index].retryAt = now + retryDelay(report)
            } else {
                historyRequests.remove(at: index)
                append(.historyResult(id: id, .failure(.refused(report.code, report.message))))
            }
        case .push(let id):
            pushRefused(id: id, report, now: now)
        case .ping:
            connection!.pingInFlight = false
        }
    }

    /// Codes whose request is resent unchanged later (§7 "Errors with retry"); an unknown code
    /// with a retry-after is treated the same (§5.17).
    static func isRetryable(_ report: Frame.ErrorReport) -> Bool {
        switch report.code {
        case .rateLimited, .unavailable, .overloaded, .internal, .notLoggedIn: true
        default: !ErrorCode.allDefined.contains(report.code) && report.retryAfterMs > 0
        }
    }

    /// How long to wait before resending after a retryable ERROR.
    func retryDelay(_ report: Frame.ErrorReport) -> UInt64 {
        report.retryAfterMs > 0 ? UInt64(report.retryAfterMs) : configuration.reconnectBackoffInitialMs
    }
}
