import Dispatch
import SeqboxFormat
import SeqboxProtocol
import SeqboxSystem
import Synchronization

/// The durable push state under DATA/push: registered devices and the outbox of pending tips,
/// in memory (`PushDurableState`) and in the journal (`PushJournal`), written by one queue with
/// group commit.
///
/// Durability: a registration or unregistration completes only after its entry is written and
/// fdatasync'd (entries arriving meanwhile share the sync). Outbox changes (tip enqueued, tip
/// done) are written lazily, at most `tipSyncDelayMs` later, sharing one sync: a crash can lose
/// the tips of that window (never a message: the message is in the mailbox and the device
/// pulls it on reconnect), and can repeat a tip delivered just before it.
///
/// Erasure: an unregistered (or replaced) token stays in the journal file until the next
/// compaction, which comes at most `erasureDelayMs` after the unregistration.
///
/// Thread-safe. Reads (`devices(of:)`) take a mutex briefly and never wait for the disk.
final class PushStateStore: Sendable {
    /// How long an outbox change may wait for the sync that makes it durable.
    static let tipSyncDelayMs = 5
    /// Longest an unregistered token stays in the journal file (it is compacted by then).
    static let erasureDelayMsDefault = 60_000
    /// The journal is compacted once it is this large and twice its size after the last
    /// compaction.
    static let compactionBytesMin: Int64 = 1 << 20

    private struct Shared: Sendable {
        var state: PushDurableState
        /// Entries applied to `state` and not yet handed to the writer.
        var pending: [PushJournalEntry] = []
        /// Called with the outcome once the entries before them are durable.
        var waiters: [@Sendable (Bool) -> Void] = []
        var drainScheduled = false
        var urgentDrainScheduled = false
        /// A registration was dropped; a compaction is scheduled to erase it from the file.
        var erasureScheduled = false
        var closed = false
    }

    /// The writer's side: only touched on `queue`, hence unchecked.
    private final class WriterSide: @unchecked Sendable {
        var journal: PushJournal?
        var compactedSize: Int64
        /// A write or sync failed (the file's tail is unknown), or dropped registrations are due
        /// to be erased: the next drain rewrites the file.
        var rewriteNeeded: Bool
        init(journal: PushJournal, rewriteNeeded: Bool) {
            self.journal = journal
            self.compactedSize = journal.size
            self.rewriteNeeded = rewriteNeeded
        }
    }

    private let shared: PthreadLocked<Shared>
    private let writer: WriterSide
    private let queue = DispatchQueue(label: "seqbox.push.journal")
    private let log: ServerLog
    private let erasureDelayMs: Int
    /// The pending tips found at open, oldest first.
    let recoveredTips: [PushTip]

    /// Opens (or creates) the push state in `directory`. A torn tail is dropped (and logged);
    /// a file that is not a push journal is moved aside (and logged as an error): the server
    /// then starts with no registrations, which devices restore on their next PUSH_REGISTER.
    /// The journal is rewritten at once when it had a torn tail or still held dropped
    /// registrations.
    static func open(directory: String, log: ServerLog, erasureDelayMs: Int = PushStateStore.erasureDelayMsDefault) throws -> PushStateStore {
        let (journal, loaded) = try PushJournal.open(directory: directory)
        var state = PushDurableState()
        // Registrations dropped before a crash may still be in the file: erase them now.
        var erased = false
        for entry in loaded.entries { erased = state.apply(entry) || erased }
        if let aside = loaded.movedAside {
            log.error("push_state_unreadable", "path=\(journal.path) moved_to=\(aside)")
        } else if loaded.discardedBytes > 0 {
            log.warning("push_state_tail_dropped", "path=\(journal.path) bytes=\(loaded.discardedBytes) entries_kept=\(loaded.entries.count)")
        }
        let rewrite = loaded.discardedBytes > 0 || erased
        let store = PushStateStore(state: state, journal: journal, rewriteNeeded: rewrite, log: log, erasureDelayMs: erasureDelayMs)
        if rewrite { store.flush() }
        return store
    }

    private init(state: PushDurableState, journal: PushJournal, rewriteNeeded: Bool, log: ServerLog, erasureDelayMs: Int) {
        self.shared = PthreadLocked(Shared(state: state))
        self.writer = WriterSide(journal: journal, rewriteNeeded: rewriteNeeded)
        self.log = log
        self.erasureDelayMs = erasureDelayMs
        self.recoveredTips = state.pendingTips
    }

    // MARK: Reading

    /// `user`'s registered devices, least recently registered first.
    func devices(of user: UserID) -> [PushDevice] {
        shared.withLock { $0.state.devices[user] ?? [] }
    }

    func hasDevices(_ user: UserID) -> Bool {
        shared.withLock { $0.state.devices[user] != nil }
    }

    /// Registered devices in all.
    var deviceCount: Int { shared.withLock { $0.state.deviceCount } }

    /// Users with a tip in the outbox now.
    var outboxCount: Int { shared.withLock { $0.state.outbox.count } }

    // MARK: Writing

    /// Registers (or replaces) `device`'s token; `completion(true)` once durable, false when
    /// the journal could not be written or the store is closed.
    func register(user: UserID, device: PushDevice, completion: @escaping @Sendable (Bool) -> Void) {
        submit([.register(user, device)], urgent: true, completion: completion)
    }

    /// Removes `device`'s token; `completion` as for `register`.
    func unregister(user: UserID, device: DeviceID, completion: @escaping @Sendable (Bool) -> Void) {
        submit([.unregister(user, device)], urgent: true, completion: completion)
    }

    /// Records that the outbox holds `tip` (durable within `tipSyncDelayMs`).
    func recordTip(_ tip: PushTip) {
        submit([.tipEnqueued(tip)], urgent: false, completion: nil)
    }

    /// Records that the tips of `user` up to `seq` are done (durable within `tipSyncDelayMs`).
    func recordTipDone(user: UserID, seq: Seq) {
        submit([.tipDone(user, seq)], urgent: false, completion: nil)
    }

    /// Writes and syncs everything submitted so far; returns once it is durable (or failed).
    func flush() {
        queue.sync { drain() }
    }

    /// Flushes (compacting when dropped registrations await erasure), then closes the journal;
    /// later changes are refused (`completion(false)`).
    func close() {
        let erase = shared.withLock { shared -> Bool in
            shared.closed = true
            return shared.erasureScheduled
        }
        queue.sync {
            if erase { writer.rewriteNeeded = true }
            drain()
            writer.journal?.close()
            writer.journal = nil
        }
    }

    private func submit(_ entries: [PushJournalEntry], urgent: Bool, completion: (@Sendable (Bool) -> Void)?) {
        enum Schedule { case none, now, later }
        let (schedule, erase) = shared.withLock { shared -> (Schedule?, Bool) in
            guard !shared.closed else { return (nil, false) }
            var erased = false
            for entry in entries { erased = shared.state.apply(entry) || erased }
            shared.pending += entries
            if let completion { shared.waiters.append(completion) }
            let erase = erased && !shared.erasureScheduled
            if erase { shared.erasureScheduled = true }
            if urgent {
                guard !shared.urgentDrainScheduled else { return (Schedule.none, erase) }
                shared.urgentDrainScheduled = true
                shared.drainScheduled = true
                return (.now, erase)
            }
            guard !shared.drainScheduled else { return (Schedule.none, erase) }
            shared.drainScheduled = true
            return (.later, erase)
        }
        switch schedule {
        case nil: completion?(false)
        case .none?: break
        case .now?: queue.async { self.drain() }
        case .later?: queue.asyncAfter(deadline: .now() + .milliseconds(PushStateStore.tipSyncDelayMs)) { self.drain() }
        }
        if erase {
            queue.asyncAfter(deadline: .now() + .milliseconds(erasureDelayMs)) {
                self.shared.withLock { $0.erasureScheduled = false }
                self.writer.rewriteNeeded = true
                self.drain()
            }
        }
    }

    /// On `queue`: writes the pending entries (or, when the journal is large or suspect, the
    /// whole state), syncs, and answers the waiters.
    private func drain() {
        guard let journal = writer.journal else { return }
        let compact = writer.rewriteNeeded
            || journal.size > max(PushStateStore.compactionBytesMin, 2 * writer.compactedSize)
        let (entries, waiters, snapshot) = shared.withLock { shared in
            defer {
                shared.pending = []
                shared.waiters = []
                shared.drainScheduled = false
                shared.urgentDrainScheduled = false
            }
            // The snapshot already holds the effect of the pending entries.
            return (shared.pending, shared.waiters, compact ? shared.state.snapshot : nil)
        }
        guard !entries.isEmpty || !waiters.isEmpty || snapshot != nil else { return }
        var succeeded = true
        do {
            if let snapshot {
                try journal.rewrite(snapshot)
                writer.compactedSize = journal.size
                writer.rewriteNeeded = false
            } else {
                try journal.append(entries)
                try journal.sync()
            }
        } catch {
            succeeded = false
            writer.rewriteNeeded = true
            log.error("push_state_write_failed", "path=\(journal.path) error=\"\(error)\"")
        }
        for waiter in waiters { waiter(succeeded) }
    }
}
