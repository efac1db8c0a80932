/// One interval of open-loop load at a fixed offered rate: messages are scheduled evenly over
/// [startNs, endNs) (CLOCK_MONOTONIC) and each is attributed to the phase its scheduled send
/// time falls in, however late its replies come.
struct LoadPhase: Sendable {
    var index: Int
    var name: String
    var startNs: UInt64
    var endNs: UInt64
    /// Messages per second offered, over all load threads.
    var ratePerSecond: Double

    var seconds: Double { Double(endNs - startNs) / 1e9 }
}

/// What happened to one phase's messages, counted by one load thread (or merged over all).
struct PhaseCounts: Sendable, Codable, Equatable {
    /// Messages due in the phase's window.
    var scheduled = 0
    /// Messages written to a sender connection.
    var sent = 0
    /// Due but not sent: their sender already had `outstandingMax` sends unanswered (the
    /// server fell this far behind). The offered rate was not achieved.
    var skipped = 0
    /// SEND_OK / XADD replies.
    var acknowledged = 0
    /// Of those, received before the phase's window ended (the achieved throughput).
    var acknowledgedInWindow = 0
    /// Sends refused with an error (nothing stored).
    var failed = 0
    /// Messages the recipient holds: pulled (Seqbox PULL_OK) or read (Redis XREAD).
    var delivered = 0
    /// Seqbox: messages whose arrival the recipient learned from a NOTIFY ...
    var notified = 0
    /// ... or first from a PULL_OK's newestSeq (the server coalesced the NOTIFY away).
    var notifiedByReply = 0
    /// Deliveries out of send order, duplicated, or from an unexpected sender: must stay 0.
    var anomalies = 0

    mutating func add(_ other: PhaseCounts) {
        scheduled += other.scheduled
        sent += other.sent
        skipped += other.skipped
        acknowledged += other.acknowledged
        acknowledgedInWindow += other.acknowledgedInWindow
        failed += other.failed
        delivered += other.delivered
        notified += other.notified
        notifiedByReply += other.notifiedByReply
        anomalies += other.anomalies
    }

    /// Every sent message answered, and every stored one delivered.
    var isSettled: Bool { acknowledged + failed >= sent && delivered >= acknowledged }
}

/// A phase's counts and latency histograms (nanoseconds, from each message's scheduled send
/// time, so a stalled server cannot hide behind a waiting client: no coordinated omission).
struct PhaseTally: Sendable {
    var counts = PhaseCounts()
    /// send → SEND_OK (Seqbox) / XADD reply (Redis).
    var acknowledgement = LatencyHistogram()
    /// send → NOTIFY at the recipient (Seqbox only).
    var notification = LatencyHistogram()
    /// send → the recipient holds the message (PULL_OK read / XREAD returned).
    var delivery = LatencyHistogram()
    /// scheduled → written by the load generator: its own lateness (already inside the above).
    var sendLag = LatencyHistogram()
    /// Error replies by code (Seqbox ERROR codes; -1 for a Redis error), and the first texts.
    var errorCodes: [Int: Int] = [:]
    var errorSamples: [String] = []

    mutating func merge(_ other: PhaseTally) {
        counts.add(other.counts)
        acknowledgement.merge(other.acknowledgement)
        notification.merge(other.notification)
        delivery.merge(other.delivery)
        sendLag.merge(other.sendLag)
        for (code, count) in other.errorCodes { errorCodes[code, default: 0] += count }
        errorSamples += other.errorSamples.prefix(max(0, 5 - errorSamples.count))
    }
}
