import SeqboxFormat
import SeqboxProtocol

extension MessagingService {
    /// PULL (PROTOCOL.md §5.7–5.9, §11): the limit is clamped to the service's maximum, and the
    /// backend answers PULL_OK or TRUNCATED (at once, on this loop thread, when embedded).
    func handlePull(_ pull: Frame.Pull, requestID: UInt32, session: Session, as identity: SessionIdentity) {
        counters.pulls.add(1, ordering: .relaxed)
        let limit = min(Int(pull.limit), configuration.pullLimitMax)
        let connection = session.connection
        backend.pull(user: identity.user, pull, limit: limit, frameLengthMax: configuration.pullFrameLengthMax) { [self] result in
            switch result {
            case .success(let answer): connection.send(answer, requestID: requestID)
            case .failure(let report): refuse(connection, requestID: requestID, report)
            }
        }
    }
}
