#if canImport(Glibc)
import Glibc
#endif

/// The two clocks the client reads: a monotonic one for every timer (reply timeouts,
/// heartbeats, backoff), which never jumps with wall-clock changes, and the wall clock for
/// delivery latency against the server's message timestamps.
public enum ClientClock {
    /// Milliseconds on the monotonic clock (an arbitrary origin; only differences mean anything).
    public static func monotonicMs() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
    }

    /// Unix time in milliseconds, comparable with `InboxMessage.timestampMs`.
    public static func wallClockMs() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
    }
}
