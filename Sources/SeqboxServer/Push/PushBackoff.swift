/// When a failed webhook POST is retried: exponential backoff, capped, with jitter.
///
/// Retry `n` (1 = the first) waits `step / 2 + random(0 ... step / 2)` where
/// `step = min(maxMs, initialMs × 2^(n−1))` ("equal jitter"): retries of many users spread out
/// instead of hitting a recovering relay at once, and no retry comes back immediately.
struct PushBackoff: Hashable, Sendable {
    var initialMs: Int
    var maxMs: Int

    /// The capped step before jitter, for retry `attempt` (1-based).
    func stepMs(attempt: Int) -> Int {
        let doublings = min(max(attempt - 1, 0), 30)
        return min(maxMs, initialMs << doublings)
    }

    /// The delay before retry `attempt`, with jitter from `random`.
    func delayMs(attempt: Int, random: (ClosedRange<Int>) -> Int = { Int.random(in: $0) }) -> Int {
        let step = stepMs(attempt: attempt)
        return step / 2 + random(0 ... (step - step / 2))
    }
}
