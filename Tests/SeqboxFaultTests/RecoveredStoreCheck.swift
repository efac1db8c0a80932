import SeqboxFormat
import SeqboxStore

/// Checks a store reopened after a crash against what was acknowledged before it:
/// - every acknowledged append is present with its seq and intact content;
/// - each mailbox holds seqs 1...newest, contiguous, each message something a worker sent to
///   that mailbox, and no client message id appears twice;
/// - every append answered with success (even after the crash instant) is there with its seq,
///   and none whose write failed is;
/// - acknowledged acks and blocklist changes are there, and nothing that was never asked for.
/// Under retention, seqs below a mailbox's first retained seq may be gone (and only those).
/// Returns the problems found, empty when all holds.
struct RecoveredStoreCheck {
    let store: MailboxStore
    let history: FaultHistory
    let snapshot: FaultHistory.Snapshot
    let users: Int
    /// True when the store deletes old segments.
    let retention: Bool
    private var firstRetained: [UInt64: UInt32] = [:]
    /// Mailboxes whose oldest seqs retention has deleted.
    var trimmedMailboxes: Int { firstRetained.values.filter { $0 > 1 }.count }

    /// Where each client message id was found: (mailbox, seq).
    private(set) var found: [UInt64: (user: UInt64, seq: UInt32)] = [:]
    private(set) var problems: [String] = []

    init(store: MailboxStore, history: FaultHistory, snapshot: FaultHistory.Snapshot, users: Int, retention: Bool) {
        self.store = store
        self.retention = retention
        self.history = history
        self.snapshot = snapshot
        self.users = users
    }

    mutating func run() -> [String] {
        for user in 1 ... UInt64(users) { scanMailbox(user) }
        for (id, expected) in snapshot.acknowledged.sorted(by: { $0.key < $1.key }) {
            guard let actual = found[id] else {
                if !isRetainedAway(expected) { problems.append("acknowledged cmid \(id) (user \(expected.user) seq \(expected.seq)) is missing") }
                continue
            }
            if actual != expected { problems.append("acknowledged cmid \(id) was at user \(expected.user) seq \(expected.seq), now at user \(actual.user) seq \(actual.seq)") }
        }
        for (id, expected) in history.everySucceeded where snapshot.acknowledged[id] == nil {
            if let actual = found[id], actual != expected {
                problems.append("cmid \(id) was answered seq \(expected.seq), is at user \(actual.user) seq \(actual.seq)")
            } else if found[id] == nil, !isRetainedAway(expected) {
                problems.append("cmid \(id) was answered seq \(expected.seq) (its sync returned before the crash) but is missing")
            }
        }
        for id in history.unwrittenIDs.sorted() {
            if let place = found[id] { problems.append("cmid \(id), whose write failed, appears at user \(place.user) seq \(place.seq)") }
        }
        checkCursors()
        checkBlocks()
        return problems
    }

    /// True when retention may have deleted the message at (user, seq).
    private func isRetainedAway(_ place: (user: UInt64, seq: UInt32)) -> Bool {
        retention && place.seq < firstRetained[place.user, default: 1]
    }

    private mutating func scanMailbox(_ user: UInt64) {
        let info = store.mailboxInfo(user: UserID(user))
        let newest = info.newestSeq.rawValue
        firstRetained[user] = info.firstAvailable.rawValue
        if info.firstAvailable.rawValue != 1 && !retention {
            problems.append("user \(user): first available seq is \(info.firstAvailable) without retention")
        }
        var after = info.firstAvailable.rawValue - 1
        while after < newest {
            let result: ReadResult
            do {
                result = try store.read(user: UserID(user), after: Seq(after), limit: 1000)
            } catch {
                return problems.append("user \(user): read after \(after) failed: \(error)")
            }
            guard result.status == .ok, !result.messages.isEmpty else {
                return problems.append("user \(user): read after \(after) answered \(result.status) with \(result.messages.count) messages (newest \(newest))")
            }
            for message in result.messages {
                guard message.seq.rawValue == after + 1 else {
                    return problems.append("user \(user): seq \(message.seq) follows seq \(after)")
                }
                after = message.seq.rawValue
                checkMessage(message, user: user)
            }
        }
    }

    private mutating func checkMessage(_ message: StoredMessage, user: UInt64) {
        let id = message.clientMessageID.rawValue
        if let earlier = found[id] {
            problems.append("cmid \(id) is stored twice: user \(earlier.user) seq \(earlier.seq) and user \(user) seq \(message.seq)")
        }
        found[id] = (user, message.seq.rawValue)
        guard let sent = history.submittedMessage(id) else {
            return problems.append("user \(user) seq \(message.seq): cmid \(id) was never sent")
        }
        let intact = sent.user.rawValue == user && sent.sender == message.sender && sent.device == message.device &&
            sent.timestampMs == message.timestampMs && sent.outgoing == message.outgoing && sent.payload == message.payload
        if !intact {
            problems.append("user \(user) seq \(message.seq): cmid \(id) differs from what was sent (payload \(message.payload.count) bytes, sent \(sent.payload.count) to user \(sent.user))")
        }
    }

    private mutating func checkCursors() {
        let submitted = history.submittedAckSeqs
        var keys = Set(submitted.keys)
        keys.formUnion(snapshot.cursorFloors.keys)
        for key in keys {
            let cursor = store.cursor(user: UserID(key.user), device: DeviceID(key.device)).rawValue
            let floor = snapshot.cursorFloors[key] ?? 0
            if cursor < floor { problems.append("cursor of user \(key.user) device \(key.device) is \(cursor), below acknowledged \(floor)") }
            if cursor != 0 && !(submitted[key]?.contains(cursor) ?? false) {
                problems.append("cursor of user \(key.user) device \(key.device) is \(cursor), which was never acked")
            }
            if cursor > store.newestSeq(user: UserID(key.user)).rawValue {
                problems.append("cursor of user \(key.user) device \(key.device) is \(cursor), beyond the mailbox")
            }
        }
    }

    private mutating func checkBlocks() {
        for (key, log) in history.blockLogs {
            let acknowledged = snapshot.blocks[key]?.lastAcknowledged
            var allowed: Set<Bool> = [acknowledged.map { log.values[$0] } ?? false]
            for value in log.values[((acknowledged ?? -1) + 1)...] { allowed.insert(value) }
            let actual = store.isBlocked(user: UserID(key.user), blocked: UserID(key.blocked))
            if !allowed.contains(actual) {
                problems.append("user \(key.user) blocks \(key.blocked): \(actual), expected \(allowed.sorted { !$0 && $1 })")
            }
        }
    }
}
