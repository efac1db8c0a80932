#if canImport(Glibc)
import Glibc
#endif

/// One phase as measured over all load threads.
struct PhaseOutcome {
    var phase: LoadPhase
    var tally: PhaseTally
    /// Every sent message was answered and every stored one delivered within the drain time.
    var settled: Bool
    /// From the end of the window until settled (or the drain limit).
    var drainSeconds: Double
    /// Cores busy during the window: the server (nil when its PID is unknown), this process,
    /// the whole machine.
    var serverCores: Double?
    var generatorCores: Double
    var machineCores: Double
    var serverResidentBytes: Int?
}

/// Runs the load threads of one engine and drives them through phases: posts each phase to
/// every thread (starting a little in the future so they start together), measures CPU over
/// its window, waits for its messages to settle, then collects and merges the threads' tallies.
final class LoadGenerator<Client: LoadClient> {
    /// How far ahead a phase is posted before it starts.
    static var startDelayNs: UInt64 { 20_000_000 }
    /// How often the driving thread looks at the threads' counts while waiting.
    static var pollSeconds: Double { 0.002 }

    let loops: [LoadLoop<Client>]
    let serverPID: pid_t?
    /// The phases run so far.
    private(set) var phases: [LoadPhase] = []

    init(loops: [LoadLoop<Client>], serverPID: pid_t?) {
        self.loops = loops
        self.serverPID = serverPID
    }

    /// Starts the threads, runs `body` on the calling thread, then stops and joins them.
    func run(_ body: (LoadGenerator<Client>) throws -> Void) throws {
        var failure: Error?
        let loops = self.loops
        runThreads(count: loops.count, { index in loops[index].run() }, whileRunning: {
            do { try body(self) } catch { failure = error }
            for loop in loops { loop.control.requestStop() }
        })
        if let failure { throw failure }
        if let text = loops.lazy.compactMap({ $0.control.failure }).first { throw BenchError(text) }
    }

    /// Offers `rate` msgs/s for `seconds`, then waits up to `drainSeconds` for the stragglers.
    func runPhase(name: String, rate: Double, seconds: Double, drainSeconds: Double) throws -> PhaseOutcome {
        let start = Clock.nanoseconds() + Self.startDelayNs
        let phase = LoadPhase(index: phases.count, name: name, startNs: start, endNs: start + UInt64(seconds * 1e9), ratePerSecond: rate)
        phases.append(phase)
        for loop in loops { loop.control.post(phase) }

        try wait(until: phase.startNs)
        var probe = CPUProbe(serverPID: serverPID)
        probe.start()
        try wait(until: phase.endNs)
        let cpu = probe.stop()
        let resident = serverPID.flatMap { ProcessStat.residentBytes(pid: $0) }

        let settled = try waitUntilSettled(phase, deadline: phase.endNs + UInt64(drainSeconds * 1e9))
        let drained = Clock.seconds(since: phase.endNs)

        var tally = PhaseTally()
        for loop in loops {
            guard let part = loop.control.snapshot(of: phase.index) else {
                throw BenchError(loop.control.failure ?? "a load thread stopped")
            }
            tally.merge(part)
        }
        return PhaseOutcome(phase: phase, tally: tally, settled: settled, drainSeconds: drained,
                            serverCores: cpu.server, generatorCores: cpu.generator, machineCores: cpu.machine,
                            serverResidentBytes: resident)
    }

    /// Waits until every message of `phase` is scheduled, answered and delivered, or the
    /// deadline passes; returns whether it settled.
    func waitUntilSettled(_ phase: LoadPhase, deadline: UInt64) throws -> Bool {
        let expected = loops.map { LoadLoop<Client>.dueCount(of: phase, share: $0.share) }
        while true {
            try checkFailures()
            let settled = zip(loops, expected).allSatisfy { loop, due in
                let counts = loop.control.counts
                return counts.count > phase.index && counts[phase.index].scheduled == due && counts[phase.index].isSettled
            }
            if settled { return true }
            if Clock.nanoseconds() >= deadline { return false }
            Clock.sleep(seconds: Self.pollSeconds)
        }
    }

    private func wait(until time: UInt64) throws {
        while true {
            try checkFailures()
            let now = Clock.nanoseconds()
            if now >= time { return }
            Clock.sleep(seconds: min(0.05, Double(time - now) / 1e9))
        }
    }

    private func checkFailures() throws {
        if SpawnedProcesses.interrupted { throw BenchError("interrupted") }
        if let text = loops.lazy.compactMap({ $0.control.failure }).first { throw BenchError(text) }
    }
}
