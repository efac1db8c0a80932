import SeqboxProtocol

/// The device's push token (PROTOCOL.md §5.19–§5.21): the application's newest wish (register
/// a token, or unregister) is kept until a PUSH_OK answers it, and written after every LOGIN_OK
/// until then. So a registration made while offline, or whose connection broke before the
/// answer, still lands. It lives in memory only: an application registers again when it starts.
extension ClientCore {
    /// Queues a PUSH_REGISTER of `token` for `platform`, replacing any push request not yet
    /// answered; `.pushChanged` (or `.pushFailed`) follows.
    mutating func enqueuePushRegister(platform: PushPlatform, token: [UInt8]) throws(ClientError) {
        guard phase != .stopped else { throw .notRunning }
        guard !token.isEmpty, token.count <= ProtocolConstants.pushTokenSizeMax else {
            throw .invalidPushToken(size: token.count, limit: ProtocolConstants.pushTokenSizeMax)
        }
        pushRequest = PushRequest(id: takeLocalID(), frame: .pushRegister(Frame.PushRegister(platform: platform, token: token)))
    }

    /// Queues a PUSH_UNREGISTER, replacing any push request not yet answered; `.pushChanged`
    /// (or `.pushFailed`) follows.
    mutating func enqueuePushUnregister() throws(ClientError) {
        guard phase != .stopped else { throw .notRunning }
        pushRequest = PushRequest(id: takeLocalID(), frame: .pushUnregister(Frame.PushUnregister()))
    }

    /// Writes the wanted push request, unless one is in flight: a replaced request is answered
    /// first, so the server sees the changes in the order the application made them.
    mutating func pumpPush(now: UInt64) {
        guard let request = pushRequest, request.requestID == nil, request.retryAt <= now else { return }
        guard connection!.inFlight.count < requestsInFlightMax - 2 else { return }
        let pushInFlight = connection!.inFlight.values.contains { if case .push = $0.kind { true } else { false } }
        guard !pushInFlight else { return }
        pushRequest!.requestID = write(request.frame, kind: .push(id: request.id), now: now)
        pushRequest!.retryAt = 0
    }

    /// PUSH_OK: the change is durable. The answer to a request the application replaced since
    /// is not reported; the newer one goes out next.
    mutating func pushAnswered(id: UInt64, _ ok: Frame.PushOK) {
        guard pushRequest?.id == id else { return }
        pushRequest = nil
        emit(.pushChanged(registered: ok.registered))
    }

    /// ERROR for a push request: retry later (notLoggedIn, overloaded…), or report the refusal.
    mutating func pushRefused(id: UInt64, _ report: Frame.ErrorReport, now: UInt64) {
        guard pushRequest?.id == id else { return }
        if ClientCore.isRetryable(report) {
            pushRequest!.requestID = nil
            pushRequest!.retryAt = now + retryDelay(report)
        } else {
            pushRequest = nil
            emit(.pushFailed(code: report.code))
        }
    }
}
