import Foundation
import SeqboxFormat
import SeqboxStore

/// Everything the workers of a fault scenario asked of the store and what it answered, so a
/// recovered store can be checked against it. Thread-safe (one lock).
///
/// An operation counts as *acknowledged* once its completion has run; `snapshot()` taken just
/// before a crash is the set the crashed disk must still hold.
final class FaultHistory: @unchecked Sendable {
    /// A cursor: (mailbox owner, device).
    struct CursorKey: Hashable { var user: UInt64; var device: UInt64 }
    /// A blocklist entry: `user` blocks `blocked`.
    struct BlockKey: Hashable { var user: UInt64; var blocked: UInt64 }

    /// The block (true) and unblock (false) operations on one entry, in submission order (one
    /// thread owns an entry and waits for each operation, so the store applies them in order).
    struct BlockLog {
        var values: [Bool] = []
        /// Index in `values` of the last acknowledged operation.
        var lastAcknowledged: Int?
    }

    /// What must survive a crash taken right after this snapshot.
    struct Snapshot {
        /// Client message id -> (mailbox, seq) of every acknowledged append.
        var acknowledged: [UInt64: (user: UInt64, seq: UInt32)]
        /// The highest acknowledged ack of each cursor.
        var cursorFloors: [CursorKey: UInt32]
        var blocks: [BlockKey: BlockLog]
    }

    private let lock = NSLock()
    private var submitted: [UInt64: NewMessage] = [:]
    private var succeeded: [UInt64: (user: UInt64, seq: UInt32)] = [:]
    private var newestAcknowledged: [UInt64: UInt32] = [:]
    private var cursorFloors: [CursorKey: UInt32] = [:]
    private var ackedSeqsSubmitted: [CursorKey: Set<UInt32>] = [:]
    private var blocks: [BlockKey: BlockLog] = [:]
    private var problems: [String] = []
    private var unwritten: Set<UInt64> = []

    // MARK: Recording

    func submit(_ messages: [NewMessage]) {
        lock.withLock { for message in messages { submitted[message.clientMessageID.rawValue] = message } }
    }

    /// Records an append's outcome; a success for a fresh id must not be a duplicate.
    func complete(_ messages: [NewMessage], _ result: Result<[AppendResult], StoreError>) {
        guard case .success(let results) = result else { return }
        lock.withLock {
            guard results.count == messages.count else {
                problems.append("append of \(messages.count) messages answered \(results.count) results")
                return
            }
            for (message, outcome) in zip(messages, results) {
                let id = message.clientMessageID.rawValue
                let user = message.user.rawValue
                if let earlier = succeeded[id] {
                    if !outcome.duplicate || earlier.seq != outcome.seq.rawValue || earlier.user != user {
                        problems.append("retry of cmid \(id) answered \(outcome), first stored as seq \(earlier.seq)")
                    }
                    continue
                }
                if outcome.duplicate { problems.append("fresh cmid \(id) answered as a duplicate (\(outcome))") }
                succeeded[id] = (user, outcome.seq.rawValue)
                newestAcknowledged[user] = max(newestAcknowledged[user] ?? 0, outcome.seq.rawValue)
            }
        }
    }

    func submitAck(user: UInt64, device: UInt64, seq: UInt32) {
        lock.withLock { _ = ackedSeqsSubmitted[CursorKey(user: user, device: device), default: []].insert(seq) }
    }

    func completeAck(user: UInt64, device: UInt64, seq: UInt32) {
        lock.withLock {
            let key = CursorKey(user: user, device: device)
            cursorFloors[key] = max(cursorFloors[key] ?? 0, seq)
        }
    }

    /// Records a block (`value` true) or unblock about to be submitted; returns its index.
    func submitBlock(user: UInt64, blocked: UInt64, value: Bool) -> Int {
        lock.withLock {
            let key = BlockKey(user: user, blocked: blocked)
            blocks[key, default: BlockLog()].values.append(value)
            return blocks[key]!.values.count - 1
        }
    }

    /// Records that the operation at `index` succeeded (a failed one's effect stays unknown).
    func completeBlock(user: UInt64, blocked: UInt64, index: Int) {
        lock.withLock { blocks[BlockKey(user: user, blocked: blocked)]?.lastAcknowledged = index }
    }

    /// Records appends that failed because their write failed (no effect): they must never
    /// appear in the store.
    func noteUnwritten(_ messages: [NewMessage]) {
        lock.withLock { for message in messages { unwritten.insert(message.clientMessageID.rawValue) } }
    }

    func noteProblem(_ problem: String) {
        lock.withLock { problems.append(problem) }
    }

    // MARK: Reading

    func snapshot() -> Snapshot {
        lock.withLock { Snapshot(acknowledged: succeeded, cursorFloors: cursorFloors, blocks: blocks) }
    }

    /// The newest acknowledged seq of `user`'s mailbox (0 when none).
    func newestAcknowledgedSeq(user: UInt64) -> UInt32 {
        lock.withLock { newestAcknowledged[user] ?? 0 }
    }

    func submittedMessage(_ clientMessageID: UInt64) -> NewMessage? {
        lock.withLock { submitted[clientMessageID] }
    }

    /// Every append answered with success so far, at any time.
    var everySucceeded: [UInt64: (user: UInt64, seq: UInt32)] { lock.withLock { succeeded } }
    var submittedAckSeqs: [CursorKey: Set<UInt32>] { lock.withLock { ackedSeqsSubmitted } }
    var blockLogs: [BlockKey: BlockLog] { lock.withLock { blocks } }
    var acknowledgedCount: Int { lock.withLock { succeeded.count } }
    var unwrittenIDs: Set<UInt64> { lock.withLock { unwritten } }
    var recordedProblems: [String] { lock.withLock { problems } }
}
