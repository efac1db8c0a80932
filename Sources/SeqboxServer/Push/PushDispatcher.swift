import Dispatch
import SeqboxFormat
import Synchronization

/// The tip queue between the push path and the webhook: coalesced per user, bounded, with
/// bounded concurrency and retries.
///
/// - Coalescing: each user has at most one waiting tip and at most one in flight. A tip for a
///   user with a waiting tip is merged into it (the newest seq wins); one that arrives while
///   the user's tip is in flight waits and is sent after it. So the queue bound is a bound on
///   users, and a burst of messages costs one or two POSTs.
/// - Bound: at most `queueMax` tips wait. When full, the OLDEST waiting tip is dropped: the
///   newest tips are the ones worth showing (a user waiting longest has most likely opened the
///   app or been told since), and under a relay outage the queue keeps the recent past instead
///   of freezing on stale tips.
/// - Concurrency: at most `concurrency` POSTs at once, started on the dispatcher's own queue
///   (never on the store's writer thread).
/// - Retries: a timeout, a connection error, a 5xx, 408 or 429 retries after `PushBackoff`, at
///   most `retriesMax` times; another 4xx drops the tip and logs it. A tip whose user logged in
///   meanwhile is not retried.
/// - Outbox: every waiting tip is in the push journal (`PushStateStore`); a tip leaves it once
///   delivered, dropped or cancelled. Tips recovered at start are queued again.
///
/// Thread-safe: one mutex guards the queue; POSTs are started and retries woken on `queue`.
final class PushDispatcher: Sendable {
    struct Settings: Hashable, Sendable {
        var queueMax: Int
        var concurrency: Int
        var retriesMax: Int
        var backoff: PushBackoff
    }

    /// One user's tips.
    private struct Slot: Sendable {
        /// The tip waiting to be sent, if any.
        var waiting: PushTip?
        /// When `waiting` entered the queue (its place in `fifo`).
        var waitingOrder: UInt64 = 0
        /// Failed attempts behind `waiting` (it is a retry when non-zero).
        var failures = 0
        /// `waiting` is not sent before this (monotonic nanoseconds): its backoff.
        var dueNs: UInt64 = 0
        /// The tip being posted, if any, and its failed attempts before this one.
        var inFlight: PushTip?
        var inFlightFailures = 0
        /// A device of the user logged in while a tip was in flight: do not retry it.
        var inFlightCancelled = false

        var isEmpty: Bool { waiting == nil && inFlight == nil }
    }

    private struct State: Sendable {
        var slots: [UserID: Slot] = [:]
        /// Waiting tips in queue order, as (user, order); entries whose slot moved on (sent,
        /// dropped, re-queued) are stale and skipped.
        var fifo: [FifoEntry] = []
        var fifoHead = 0
        var waitingCount = 0
        var inFlightCount = 0
        var nextOrder: UInt64 = 1
        var pumpScheduled = false
        /// The earliest backoff wake-up scheduled, if any.
        var wakeAtNs: UInt64?
        var stopped = false
    }

    private struct FifoEntry: Sendable {
        var user: UserID
        var order: UInt64
    }

    private enum Completion {
        case posted(PushDeliveryOutcome)
        /// The user has no registered device (any more).
        case noDevices
    }

    let settings: Settings
    private let state = PthreadLocked(State())
    private let store: PushStateStore
    /// Nil while the webhook URL is unusable: tips are kept (in the queue and the outbox,
    /// within the bound) and none is sent.
    private let transport: (any PushTransport)?
    private let counters: PushCounters
    private let log: ServerLog
    private let queue = DispatchQueue(label: "seqbox.push.dispatch")

    init(settings: Settings, store: PushStateStore, transport: (any PushTransport)?, counters: PushCounters, log: ServerLog) {
        precondition(settings.queueMax >= 1 && settings.concurrency >= 1 && settings.retriesMax >= 0)
        self.settings = settings
        self.store = store
        self.transport = transport
        self.counters = counters
        self.log = log
    }

    // MARK: Entry points

    /// Queues the tips the outbox held at start (oldest first; beyond the bound the oldest are
    /// dropped).
    func recover(_ tips: [PushTip]) {
        for tip in tips { enqueue(tip, journaled: true) }
    }

    /// Queues `tip` (any thread, never blocks on I/O).
    func enqueue(_ tip: PushTip) {
        enqueue(tip, journaled: false)
    }

    /// A device of `user` logged in: the waiting tip is dropped from the queue and the outbox;
    /// one in flight completes but is not retried.
    func cancel(user: UserID) {
        state.withLock { state in
            guard var slot = state.slots[user] else { return }
            if let waiting = slot.waiting {
                slot.waiting = nil
                state.waitingCount -= 1
                counters.cancelled.increment()
                store.recordTipDone(user: user, seq: waiting.newestSeq)
            }
            if slot.inFlight != nil { slot.inFlightCancelled = true }
            state.slots[user] = slot.isEmpty ? nil : slot
        }
    }

    /// Stops sending: requests under way are cancelled and their tips stay in the outbox for
    /// the next start; later completions are ignored.
    func stop() {
        state.withLock { $0.stopped = true }
        transport?.shutDown()
    }

    /// Waiting and in-flight tips now.
    var gauges: (queued: Int, inFlight: Int) {
        state.withLock { ($0.waitingCount, $0.inFlightCount) }
    }

    // MARK: Queue

    private func enqueue(_ tip: PushTip, journaled: Bool) {
        let pump = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            counters.enqueued.increment()
            var slot = state.slots[tip.user] ?? Slot()
            slot.inFlightCancelled = false
            if let waiting = slot.waiting {
                slot.waiting = waiting.merged(with: tip)
                counters.coalesced.increment()
            } else {
                if state.waitingCount >= settings.queueMax { dropOldest(&state) }
                slot.waiting = tip
                slot.failures = 0
                slot.dueNs = 0
                append(&slot, user: tip.user, to: &state)
            }
            state.slots[tip.user] = slot
            if !journaled { store.recordTip(tip) }
            return claimPump(&state)
        }
        if pump { queue.async { self.pump() } }
    }

    /// Gives `slot` (whose `waiting` was just set) the next place in the queue.
    private func append(_ slot: inout Slot, user: UserID, to state: inout State) {
        // Drop stale entries once they outnumber the live ones (before adding this one, whose
        // slot is not stored yet).
        if state.fifo.count - state.fifoHead > 2 * state.waitingCount + 64 {
            let current = state
            state.fifo = state.fifo[state.fifoHead...].filter { isLive($0, in: current) }
            state.fifoHead = 0
        } else if state.fifoHead > 1024 && state.fifoHead * 2 > state.fifo.count {
            state.fifo.removeFirst(state.fifoHead)
            state.fifoHead = 0
        }
        slot.waitingOrder = state.nextOrder
        state.nextOrder += 1
        state.fifo.append(FifoEntry(user: user, order: slot.waitingOrder))
        state.waitingCount += 1
    }

    /// Whether `entry` is the current place of its user's waiting tip.
    private func isLive(_ entry: FifoEntry, in state: State) -> Bool {
        guard let slot = state.slots[entry.user] else { return false }
        return slot.waiting != nil && slot.waitingOrder == entry.order
    }

    /// Drops the oldest waiting tip to make room (queue full).
    private func dropOldest(_ state: inout State) {
        while state.fifoHead < state.fifo.count {
            let entry = state.fifo[state.fifoHead]
            state.fifoHead += 1
            guard isLive(entry, in: state), var slot = state.slots[entry.user], let waiting = slot.waiting else { continue }
            slot.waiting = nil
            state.waitingCount -= 1
            state.slots[entry.user] = slot.isEmpty ? nil : slot
            counters.droppedOverflow.increment()
            store.recordTipDone(user: entry.user, seq: waiting.newestSeq)
            log.debug("push_dropped", "user=\(entry.user) newest_seq=\(waiting.newestSeq) reason=queue_full queue_max=\(settings.queueMax)")
            return
        }
    }

    /// Marks a pump as scheduled when one is useful and none is; returns whether to schedule it.
    private func claimPump(_ state: inout State) -> Bool {
        guard transport != nil, !state.pumpScheduled, state.waitingCount > 0,
              state.inFlightCount < settings.concurrency else { return false }
        state.pumpScheduled = true
        return true
    }

    // MARK: Sending

    /// On `queue`: starts POSTs for ready tips, oldest first, up to the concurrency bound, and
    /// arranges a wake-up for the earliest backoff when nothing else is ready.
    private func pump() {
        guard let transport else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let starts = state.withLock { state -> [PushTip] in
            state.pumpScheduled = false
            guard !state.stopped else { return [] }
            var starts: [PushTip] = []
            var earliestDue: UInt64?
            var index = state.fifoHead
            while index < state.fifo.count && state.inFlightCount < settings.concurrency {
                let entry = state.fifo[index]
                index += 1
                guard isLive(entry, in: state), var slot = state.slots[entry.user], let waiting = slot.waiting else {
                    if index - 1 == state.fifoHead { state.fifoHead = index }
                    continue
                }
                guard slot.inFlight == nil else { continue }
                guard slot.dueNs <= now else {
                    earliestDue = min(earliestDue ?? slot.dueNs, slot.dueNs)
                    continue
                }
                if index - 1 == state.fifoHead { state.fifoHead = index }
                slot.inFlight = waiting
                slot.inFlightFailures = slot.failures
                slot.inFlightCancelled = false
                slot.waiting = nil
                state.slots[entry.user] = slot
                state.waitingCount -= 1
                state.inFlightCount += 1
                starts.append(waiting)
            }
            // Nothing more can start now but a backed-off tip will be due: wake up for it.
            if state.inFlightCount < settings.concurrency, let due = earliestDue, due < (state.wakeAtNs ?? .max) {
                state.wakeAtNs = due
                queue.asyncAfter(deadline: DispatchTime(uptimeNanoseconds: due)) { self.wake(scheduledAt: due) }
            }
            return starts
        }
        for tip in starts { post(tip, through: transport) }
    }

    private func wake(scheduledAt due: UInt64) {
        state.withLock { state in
            if state.wakeAtNs == due { state.wakeAtNs = nil }
        }
        pump()
    }

    private func post(_ tip: PushTip, through transport: any PushTransport) {
        let devices = store.devices(of: tip.user)
        guard !devices.isEmpty else {
            finish(tip, .noDevices)
            return
        }
        transport.post(WebhookPayload(tip: tip, devices: devices).json) { outcome in
            self.finish(tip, .posted(outcome))
        }
    }

    /// A POST ended (any thread): count it, retire or re-queue the tip, pump again.
    private func finish(_ tip: PushTip, _ completion: Completion) {
        let now = DispatchTime.now().uptimeNanoseconds
        let pump = state.withLock { state -> Bool in
            guard !state.stopped, var slot = state.slots[tip.user], slot.inFlight != nil else { return false }
            let failures = slot.inFlightFailures
            let cancelled = slot.inFlightCancelled
            slot.inFlight = nil
            slot.inFlightCancelled = false
            state.inFlightCount -= 1
            // The tip leaves the outbox unless it is retried.
            var retired = true
            switch completion {
            case .noDevices:
                counters.skipped.increment()
            case .posted(.delivered(let status)):
                counters.sent.increment()
                log.debug("push_sent", "user=\(tip.user) newest_seq=\(tip.newestSeq) status=\(status) attempts=\(failures + 1)")
            case .posted(.rejected(let status)):
                counters.droppedRejected.increment()
                log.warning("push_rejected", "user=\(tip.user) newest_seq=\(tip.newestSeq) status=\(status)")
            case .posted(.failed(let reason)):
                if cancelled {
                    counters.cancelled.increment()
                } else if failures >= settings.retriesMax {
                    counters.droppedExhausted.increment()
                    log.warning("push_dropped", "user=\(tip.user) newest_seq=\(tip.newestSeq) reason=retries_exhausted attempts=\(failures + 1) error=\"\(reason)\"")
                } else {
                    retired = false
                    counters.retried.increment()
                    let delayMs = settings.backoff.delayMs(attempt: failures + 1)
                    log.debug("push_retry", "user=\(tip.user) newest_seq=\(tip.newestSeq) attempt=\(failures + 1) delay_ms=\(delayMs) error=\"\(reason)\"")
                    requeue(tip, failures: failures + 1, dueNs: now + UInt64(delayMs) * 1_000_000, slot: &slot, state: &state)
                }
            }
            if retired { store.recordTipDone(user: tip.user, seq: tip.newestSeq) }
            state.slots[tip.user] = slot.isEmpty ? nil : slot
            return claimPump(&state)
        }
        if pump { queue.async { self.pump() } }
    }

    /// Puts a failed tip back, merged with any newer one that arrived meanwhile, due after its
    /// backoff.
    private func requeue(_ tip: PushTip, failures: Int, dueNs: UInt64, slot: inout Slot, state: inout State) {
        if let waiting = slot.waiting {
            slot.waiting = waiting.merged(with: tip)
            slot.failures = max(slot.failures, failures)
            slot.dueNs = max(slot.dueNs, dueNs)
        } else {
            // The stored copy of this user's slot has no waiting tip, so dropping the oldest
            // never picks it.
            if state.waitingCount >= settings.queueMax { dropOldest(&state) }
            slot.waiting = tip
            slot.failures = failures
            slot.dueNs = dueNs
            append(&slot, user: tip.user, to: &state)
        }
        store.recordTip(tip)
    }
}
