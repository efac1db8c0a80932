/// What will happen to one proxied connection, drawn when it is accepted.
struct FaultPlan {
    /// The connection's end, if it is doomed.
    enum Fate: Equatable {
        /// Runs until one side closes.
        case survives
        /// Reset (RST both sides) once the trigger is reached, after forwarding part of a chunk.
        case reset
        /// Black-holed once the trigger is reached: nothing forwarded either way, no FIN.
        case blackhole
    }

    var fate: Fate
    /// The fate strikes after this many bytes forwarded (both ways together)…
    var afterBytes: UInt64
    /// …or this many milliseconds after accept, whichever first.
    var afterMs: UInt64
    /// Bytes per second each way, if capped.
    var bandwidthBytesPerSecond: UInt64?

    /// The plan for the connection numbered `index`, from the run's options and seed.
    static func draw(options: ProxyOptions, random: inout SplitMix64) -> FaultPlan {
        let roll = Double(random.next() >> 11) / Double(1 << 53)
        let fate: Fate = roll < options.dropRate ? .reset : roll < options.dropRate + options.blackholeRate ? .blackhole : .survives
        let afterBytes = random.upTo(options.faultAfterBytesMax)
        let afterMs = random.upTo(options.faultAfterMsMax)
        let capped = random.chance(options.bandwidthRate)
        return FaultPlan(fate: fate, afterBytes: afterBytes, afterMs: afterMs,
                         bandwidthBytesPerSecond: capped ? options.bandwidthBytesPerSecond : nil)
    }
}
