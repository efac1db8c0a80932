import Synchronization

/// The phase of a timed measurement, shared by its threads: operations finishing in
/// `measuring` are counted, `stopped` ends the loops.
final class MeasurementPhase: Sendable {
    static let warmingUp = 0
    static let measuring = 1
    static let stopped = 2
    private let value = Atomic<Int>(MeasurementPhase.warmingUp)

    var current: Int { value.load(ordering: .acquiring) }
    func set(_ phase: Int) { value.store(phase, ordering: .releasing) }

    /// Runs the phases on the calling thread: warm-up, then `seconds` of measurement, then
    /// stop. Returns the measured interval in seconds.
    func drive(warmUp: Double, seconds: Double) -> Double {
        Clock.sleep(seconds: warmUp)
        let start = Clock.nanoseconds()
        set(Self.measuring)
        Clock.sleep(seconds: seconds)
        set(Self.stopped)
        return Clock.seconds(since: start)
    }
}
