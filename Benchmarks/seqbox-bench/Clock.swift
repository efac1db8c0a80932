#if canImport(Glibc)
import Glibc
#endif

/// Monotonic time for measurements (CLOCK_MONOTONIC, vDSO: a few tens of nanoseconds).
enum Clock {
    static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    static func seconds(since start: UInt64) -> Double {
        Double(nanoseconds() &- start) / 1e9
    }

    /// Sleeps the calling thread for `seconds` (restarting after signals).
    static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
