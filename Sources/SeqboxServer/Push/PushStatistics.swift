import Synchronization

/// What the offline push did since the server started (counters) and holds now (gauges): for
/// the shutdown report, health checks and tests.
public struct PushStatistics: Hashable, Sendable, CustomStringConvertible {
    /// Tips handed to the queue (coalesced ones and those recovered from the outbox included).
    public var enqueued = 0
    /// Tips merged into a waiting tip of the same user.
    public var coalesced = 0
    /// Webhook POSTs answered 2xx.
    public var sent = 0
    /// Retries scheduled after a timeout, a connection error or a 5xx (or 408, 429).
    public var retried = 0
    /// Tips given up: the sum of the three reasons below.
    public var dropped: Int { droppedRejected + droppedExhausted + droppedOverflow }
    /// Tips the webhook refused with a 4xx (or another non-retryable status).
    public var droppedRejected = 0
    /// Tips still failing after the last retry.
    public var droppedExhausted = 0
    /// The oldest waiting tips dropped because the queue was full.
    public var droppedOverflow = 0
    /// Tips for users with no registered device: no webhook call.
    public var skipped = 0
    /// Tips cancelled because a device of the user logged in.
    public var cancelled = 0
    /// Tips waiting now (one per user at most), in-flight ones not included.
    public var queued = 0
    /// Webhook POSTs under way now.
    public var inFlight = 0
    /// Registered devices now.
    public var registeredDevices = 0
    /// Users with a tip in the durable outbox now (waiting, in flight, or kept while the
    /// webhook URL is unusable).
    public var outbox = 0

    public init() {}

    /// As `key=value` log fields.
    public var description: String {
        "push_sent=\(sent) push_retried=\(retried) push_dropped=\(dropped) push_dropped_rejected=\(droppedRejected) "
            + "push_dropped_exhausted=\(droppedExhausted) push_dropped_overflow=\(droppedOverflow) push_skipped=\(skipped) "
            + "push_queued=\(queued) push_in_flight=\(inFlight) push_coalesced=\(coalesced) push_cancelled=\(cancelled) "
            + "push_enqueued=\(enqueued) push_devices=\(registeredDevices) push_outbox=\(outbox)"
    }
}

/// The counters behind `PushStatistics`, shared by the gateway and the dispatcher.
final class PushCounters: Sendable {
    let enqueued = Atomic<Int>(0)
    let coalesced = Atomic<Int>(0)
    let sent = Atomic<Int>(0)
    let retried = Atomic<Int>(0)
    let droppedRejected = Atomic<Int>(0)
    let droppedExhausted = Atomic<Int>(0)
    let droppedOverflow = Atomic<Int>(0)
    let skipped = Atomic<Int>(0)
    let cancelled = Atomic<Int>(0)

    /// The counters (gauges left at zero for the caller to fill).
    var snapshot: PushStatistics {
        var statistics = PushStatistics()
        statistics.enqueued = enqueued.load(ordering: .relaxed)
        statistics.coalesced = coalesced.load(ordering: .relaxed)
        statistics.sent = sent.load(ordering: .relaxed)
        statistics.retried = retried.load(ordering: .relaxed)
        statistics.droppedRejected = droppedRejected.load(ordering: .relaxed)
        statistics.droppedExhausted = droppedExhausted.load(ordering: .relaxed)
        statistics.droppedOverflow = droppedOverflow.load(ordering: .relaxed)
        statistics.skipped = skipped.load(ordering: .relaxed)
        statistics.cancelled = cancelled.load(ordering: .relaxed)
        return statistics
    }
}

extension Atomic where Value == Int {
    /// Adds one (relaxed: these are statistics).
    func increment() { add(1, ordering: .relaxed) }
}
