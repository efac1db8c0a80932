/// The scheduled send times of one sender connection's unanswered sends, by request index
/// (0, 1, 2, … in send order). Seqbox answers by request ID, possibly out of order; Redis
/// answers in order. A ring that grows by doubling; answered slots are cleared and the head
/// skips them.
struct SendWindow {
    private var times: [UInt64] = [UInt64](repeating: 0, count: 64)
    private var head = 0
    /// Request index of the slot at `head`.
    private(set) var firstIndex: UInt64 = 0
    /// Slots from `head` on that are in use (answered ones included until the head passes).
    private var span = 0
    /// Sends not yet answered.
    private(set) var outstanding = 0

    /// The index the next `push` returns.
    var nextIndex: UInt64 { firstIndex + UInt64(span) }

    /// Records a send scheduled at `scheduled` (never 0); returns its request index.
    mutating func push(_ scheduled: UInt64) -> UInt64 {
        precondition(scheduled != 0)
        if span == times.count { grow() }
        times[(head + span) & (times.count - 1)] = scheduled
        span += 1
        outstanding += 1
        return firstIndex + UInt64(span - 1)
    }

    /// The scheduled time of request `index`, now answered; nil if unknown or already answered.
    mutating func take(_ index: UInt64) -> UInt64? {
        guard index >= firstIndex, index < nextIndex else { return nil }
        let slot = (head + Int(index - firstIndex)) & (times.count - 1)
        let scheduled = times[slot]
        guard scheduled != 0 else { return nil }
        times[slot] = 0
        outstanding -= 1
        while span > 0 && times[head] == 0 {
            head = (head + 1) & (times.count - 1)
            firstIndex += 1
            span -= 1
        }
        return scheduled
    }

    /// The oldest unanswered send, now answered (replies that come in order).
    mutating func takeOldest() -> UInt64? {
        guard span > 0 else { return nil }
        return take(firstIndex)
    }

    private mutating func grow() {
        var fresh = [UInt64](repeating: 0, count: times.count * 2)
        for offset in 0 ..< span { fresh[offset] = times[(head + offset) & (times.count - 1)] }
        times = fresh
        head = 0
    }
}
