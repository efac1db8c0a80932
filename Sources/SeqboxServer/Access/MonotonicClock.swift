#if canImport(Glibc)
import Glibc
#endif

/// Milliseconds on clock_gettime(2) `CLOCK_MONOTONIC`: never jumps with the wall clock, so
/// timeouts stay right across NTP steps. Each loop reads it once per turn.
enum MonotonicClock {
    static func nowMs() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000 + Int64(time.tv_nsec) / 1_000_000
    }
}
