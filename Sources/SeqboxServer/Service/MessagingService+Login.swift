import SeqboxFormat
import SeqboxProtocol
import SeqboxStore

extension MessagingService {
    /// LOGIN (PROTOCOL.md §3, §5.3–5.4): verify the token, make the session live, answer with
    /// the mailbox's state. A device without a cursor starts at the user's confirmed seq (what
    /// no device of the user has confirmed), or at the first retained seq with `fullHistory`.
    func handleLogin(_ login: Frame.Login, requestID: UInt32, session: Session) {
        guard session.identity == nil else {
            refuse(session, requestID: requestID, Frame.ErrorReport(code: .badRequest, message: "already logged in"))
            return
        }
        let verdict = tokens.verify(token: login.token, user: login.user, device: login.device,
                                    nowSeconds: configuration.wallClockSeconds())
        if case .failure(let refusal) = verdict {
            let code: ErrorCode = refusal == .expired ? .tokenExpired : .authFailed
            log.info("login_refused", "connection=\(session.id) user=\(login.user) device=\(login.device) code=\(code)")
            refuse(session, requestID: requestID, Frame.ErrorReport(code: code, message: code == .tokenExpired ? "token expired" : "authentication failed"))
            return
        }
        guard login.user != 0 else {
            refuse(session, requestID: requestID, Frame.ErrorReport(code: .authFailed, message: "user 0 does not exist"))
            return
        }
        let identity = SessionIdentity(user: UserID(login.user), device: DeviceID(login.device))
        // Set before the session becomes visible to other threads; never changed afterwards.
        session.identity = identity
        if let replaced = registry.logIn(session, as: identity) {
            log.info("session_replaced", "user=\(identity.user) device=\(identity.device) old=\(replaced.id) new=\(session.id)")
            replaced.connection.send(.goodbye(Frame.Goodbye(reason: .replaced)), requestID: 0)
            replaced.connection.close(reason: .closedByServer("replaced by \(session.id)"))
        }
        // Read after the session is live: any later append notifies it, so nothing is missed.
        pushPath.userLoggedIn(identity)
        let connection = session.connection
        backend.loginState(user: identity.user, device: identity.device, fullHistory: login.fullHistory) { [self] result in
            switch result {
            case .success(let state):
                counters.logins.add(1, ordering: .relaxed)
                log.debug("login", "connection=\(connection.id) user=\(identity.user) device=\(identity.device) newest_seq=\(state.newestSeq) device_cursor=\(state.deviceCursor)")
                connection.send(.loginOK(state), requestID: requestID)
            case .failure(var report):
                // The session is live already; a login that cannot answer its state ends the
                // connection, and the client logs in again after `retryAfterMs`.
                report.closing = true
                refuse(connection, requestID: requestID, report)
            }
        }
    }
}
