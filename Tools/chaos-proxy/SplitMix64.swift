/// The proxy's seeded pseudo-random generator: each connection gets its own, derived from the
/// run's seed and the connection's number, so its fault plan does not depend on thread timing.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0...bound.
    mutating func upTo(_ bound: UInt64) -> UInt64 { bound == 0 ? 0 : next() % (bound + 1) }

    /// True with probability `rate`.
    mutating func chance(_ rate: Double) -> Bool {
        rate > 0 && Double(next() >> 11) / Double(1 << 53) < rate
    }
}
