/// SplitMix64: a small, fast, seedable generator. Every random choice of the benchmark comes
/// from one of these, seeded from the workload seed, so a run is reproducible.
struct BenchRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A generator for one stream (thread, phase) derived from `seed`.
    init(seed: UInt64, stream: UInt64) {
        var mixer = BenchRandom(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        state = mixer.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0 ..< bound (Lemire's multiply-shift; the bias is below 2^-40 for our bounds).
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}
