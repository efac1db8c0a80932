/// The reconnect delay of PROTOCOL.md §7: `random(0, min(max, initial × 2^attempt))` ("full
/// jitter", so a restarted server is not met by all its clients at once), never below a delay
/// the server asked for, which then gets the jitter on top.
struct ReconnectBackoff: Sendable {
    let initialMs: UInt64
    let maxMs: UInt64

    /// The delay before the next attempt after `attempt` failures since the last LOGIN_OK.
    func delay(attempt: Int, serverFloorMs: UInt64, random: inout SplitMix64) -> UInt64 {
        let shift = min(attempt, 32)
        let bound = min(maxMs, initialMs << UInt64(shift))
        let jitter = bound == 0 ? 0 : random.next() % (bound + 1)
        return serverFloorMs + jitter
    }
}
