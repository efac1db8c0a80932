import SeqboxFormat
import SeqboxProtocol

extension MessagingService {
    /// PUSH_REGISTER (PROTOCOL.md §5.19): keeps the logged-in device's push token (replacing
    /// any earlier one) and answers PUSH_OK(registered) once it is durable. A write: refused
    /// while shutting down, and waited for by the shutdown like a SEND.
    func handlePushRegister(_ register: Frame.PushRegister, requestID: UInt32, session: Session, as identity: SessionIdentity) {
        guard writes.tryBegin() else {
            refuse(session, requestID: requestID, shuttingDownReport)
            return
        }
        let connection = session.connection
        pushPath.offlinePush.register(user: identity.user, device: identity.device, platform: register.platform,
                                      token: register.token) { [self] result in
            defer { writes.end() }
            answerPush(result, registered: true, requestID: requestID, connection: connection, identity: identity,
                       detail: "platform=\(register.platform) token_bytes=\(register.token.count)")
        }
    }

    /// PUSH_UNREGISTER (PROTOCOL.md §5.20): forgets the logged-in device's push token and
    /// answers PUSH_OK(not registered) once that is durable.
    func handlePushUnregister(requestID: UInt32, session: Session, as identity: SessionIdentity) {
        guard writes.tryBegin() else {
            refuse(session, requestID: requestID, shuttingDownReport)
            return
        }
        let connection = session.connection
        pushPath.offlinePush.unregister(user: identity.user, device: identity.device) { [self] result in
            defer { writes.end() }
            answerPush(result, registered: false, requestID: requestID, connection: connection, identity: identity, detail: "")
        }
    }

    /// PUSH_OK, or the gateway's ERROR. Tokens are never logged.
    private func answerPush(_ result: Result<Void, Frame.ErrorReport>, registered: Bool, requestID: UInt32,
                            connection: any ConnectionHandle, identity: SessionIdentity, detail: String) {
        switch result {
        case .success:
            log.debug(registered ? "push_registered" : "push_unregistered", "user=\(identity.user) device=\(identity.device) \(detail)")
            connection.send(.pushOK(Frame.PushOK(registered: registered)), requestID: requestID)
        case .failure(let report):
            log.log(report.code == .badRequest ? .debug : .warning, registered ? "push_register_failed" : "push_unregister_failed",
                    "user=\(identity.user) device=\(identity.device) error=\"\(report.message)\"")
            refuse(connection, requestID: requestID, report)
        }
    }
}
