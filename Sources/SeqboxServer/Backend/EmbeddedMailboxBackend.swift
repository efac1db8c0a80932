import SeqboxFormat
import SeqboxProtocol
import SeqboxStore

/// The mailboxes of a `MailboxStore` in this process: the default form of the server, and what
/// a storage node serves over the storage RPC.
///
/// Reads (login state, PULL) answer at once on the caller's thread from the mapped log; writes
/// go to the store without blocking and answer on its writer thread once durable.
public final class EmbeddedMailboxBackend: MailboxBackend {
    /// Most lost ranges (corruption opened with loss) one PULL steps over before answering.
    static let lostRangesSkippedMax = 16

    public let store: MailboxStore
    let log: ServerLog
    /// `retryAfterMs` sent with `unavailable` and `overloaded`.
    let retryAfterMs: UInt32

    public init(store: MailboxStore, retryAfterMs: UInt32 = 1_000, log: ServerLog = .silent) {
        self.store = store
        self.retryAfterMs = retryAfterMs
        self.log = log
    }

    public func shard(of user: UserID) -> Int { 0 }

    public func loginState(user: UserID, device: DeviceID, fullHistory: Bool,
                           completion: @escaping @Sendable (Result<Frame.LoginOK, Frame.ErrorReport>) -> Void) {
        let info = store.mailboxInfo(user: user)
        let known = store.cursors(user: user).first { $0.device == device }
        let firstSeq = info.firstAvailable.rawValue
        let deviceCursor = known?.seq.rawValue ?? (fullHistory ? firstSeq - 1 : info.confirmedSeq.rawValue)
        completion(.success(Frame.LoginOK(newestSeq: info.newestSeq.rawValue, confirmedSeq: info.confirmedSeq.rawValue,
                                          deviceCursor: deviceCursor, firstSeq: firstSeq, epoch: WireValues.epoch(info.epoch))))
    }

    public func append(_ group: AppendGroup, completion: @escaping @Sendable (Result<[StoredCopy], Frame.ErrorReport>) -> Void) {
        if group.refuseIfBlocked, let incoming = group.messages.first(where: { !$0.outgoing }),
           store.isBlocked(user: incoming.user, blocked: incoming.sender) {
            return completion(.failure(Frame.ErrorReport(code: .blocked, message: "the recipient blocks you")))
        }
        let messages = group.messages.map { (user: $0.user, timestampMs: $0.timestampMs) }
        store.append(batch: group.messages) { [self] result in
            switch result {
            case .success(let results):
                var copies: [StoredCopy] = []
                copies.reserveCapacity(results.count)
                for (index, stored) in results.enumerated() {
                    let user = messages[index].user
                    var timestampMs = messages[index].timestampMs
                    if stored.duplicate { timestampMs = storedTimestamp(user: user, seq: stored.seq) ?? timestampMs }
                    copies.append(StoredCopy(seq: stored.seq, duplicate: stored.duplicate,
                                             epoch: WireValues.epoch(store.mailboxInfo(user: user).epoch), timestampMs: timestampMs))
                }
                completion(.success(copies))
            case .failure(let failure):
                log.log(failure.isTransient ? .debug : .warning, "append_failed", "user=\(messages.first?.user.rawValue ?? 0) error=\"\(failure)\"")
                completion(.failure(WireValues.error(for: failure, retryAfterMs: retryAfterMs)))
            }
        }
    }

    public func ack(user: UserID, device: DeviceID, seq: Seq, completion: @escaping @Sendable (Result<Seq, Frame.ErrorReport>) -> Void) {
        let newest = store.newestSeq(user: user)
        guard seq <= newest else {
            return completion(.failure(Frame.ErrorReport(code: .badRequest, message: "ack \(seq) is beyond the newest seq \(newest)")))
        }
        store.ack(user: user, device: device, seq: seq) { [self] result in
            switch result {
            case .success:
                completion(.success(max(store.cursor(user: user, device: device), seq)))
            case .failure(let failure):
                log.log(failure.isTransient ? .debug : .warning, "ack_failed", "user=\(user) device=\(device) error=\"\(failure)\"")
                completion(.failure(WireValues.error(for: failure, retryAfterMs: retryAfterMs)))
            }
        }
    }

    public func setBlocked(user: UserID, other: UserID, blocked: Bool,
                           completion: @escaping @Sendable (Result<Void, Frame.ErrorReport>) -> Void) {
        let done: @Sendable (Result<Void, StoreError>) -> Void = { [self] result in
            switch result {
            case .success: completion(.success(()))
            case .failure(let failure):
                log.log(failure.isTransient ? .debug : .warning, "block_failed", "user=\(user) other=\(other) error=\"\(failure)\"")
                completion(.failure(WireValues.error(for: failure, retryAfterMs: retryAfterMs)))
            }
        }
        if blocked { store.block(user: user, blocked: other, completion: done) } else { store.unblock(user: user, blocked: other, completion: done) }
    }

    /// The timestamp the message at `seq` was stored with (for a duplicate's answer).
    private func storedTimestamp(user: UserID, seq: Seq) -> UInt64? {
        guard seq.rawValue > 0, let read = try? store.read(user: user, after: Seq(seq.rawValue - 1), limit: 1),
              let message = read.messages.first, message.seq == seq else { return nil }
        return message.timestampMs
    }
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
