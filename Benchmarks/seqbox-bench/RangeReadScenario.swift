/// Scenario 3: range reads of hot data: `--threads` readers each pick a user uniformly at
/// random and a start uniformly in 0...max(0, newest - limit), and read `limit` (100)
/// messages, borrowed (`--form borrowed`: Seqbox `visit`) or copied (`copied`: Seqbox `read`).
enum RangeReadScenario {
    static let name = "read"
    static let defaultLimit = 100

    static func run(_ context: ScenarioContext) throws -> ChildReport {
        guard let form = ReadForm(rawValue: context.arguments.string("form", default: "borrowed")) else {
            throw BenchError("--form must be borrowed or copied")
        }
        let threads = try context.arguments.int("threads", default: 1)
        let limit = try context.arguments.int("limit", default: defaultLimit)
        let users = context.workload.users
        let engine: any RangeReadEngine
        switch context.engine {
        case .seqbox:
            let seqbox = try SeqboxRangeReadEngine(directory: context.dataPath)
            try seqbox.sampleCompression(users: users)
            engine = seqbox
        case .sqlite:
            engine = SQLiteRangeReadEngine(path: context.dataPath)
        }
        let newest = try engine.newestSeqs(users: users)
        try warmUpEverything(engine, newest: newest, limit: limit)

        let phase = MeasurementPhase()
        let total = Collected((reads: 0, messages: 0, latency: LatencyHistogram(), failure: String?.none))
        var elapsed = 0.0
        let seed = context.workload.seed
        runThreads(count: threads, { index in
            var random = BenchRandom(seed: seed, stream: 0x4EAD_0000 + UInt64(index))
            var reads = 0
            var messages = 0
            var latency = LatencyHistogram()
            var sink: UInt64 = 0
            var failure: String?
            do {
                let reader = try engine.makeReader()
                while phase.current != MeasurementPhase.stopped {
                    let user = random.below(users) + 1
                    let after = UInt32(random.below(max(0, Int(newest[user - 1]) - limit) + 1))
                    let start = Clock.nanoseconds()
                    let count = try reader.read(user: UInt64(user), after: after, limit: limit, form: form, sink: &sink)
                    let end = Clock.nanoseconds()
                    if phase.current == MeasurementPhase.measuring {
                        reads += 1
                        messages += count
                        latency.record(end &- start)
                    }
                }
            } catch {
                failure = "\(error)"
            }
            blackHole(sink)
            total.update { merged in
                merged.reads += reads
                merged.messages += messages
                merged.latency.merge(latency)
                merged.failure = merged.failure ?? failure
            }
        }, whileRunning: { elapsed = phase.drive(warmUp: context.warmUp, seconds: context.seconds) })
        let measured = total.current
        if let failure = measured.failure { throw BenchError("read failed: \(failure)") }

        var report = context.report(name)
        report.operations = measured.reads
        report.messages = measured.messages
        report.seconds = elapsed
        report.latency = measured.latency.summary
        report.notes = engine.notes()
        try engine.close()
        report.peakResidentBytes = ProcessMetrics.peakResidentBytes()
        report.storeBytes = FileTree.allocatedBytes(context.directory)
        return report
    }

    /// Reads every message once, so the measured reads find the data in memory.
    private static func warmUpEverything(_ engine: any RangeReadEngine, newest: [UInt32], limit: Int) throws {
        let reader = try engine.makeReader()
        var sink: UInt64 = 0
        for (index, newestSeq) in newest.enumerated() {
            var after: UInt32 = 0
            while after < newestSeq {
                let count = try reader.read(user: UInt64(index + 1), after: after, limit: limit, form: .borrowed, sink: &sink)
                guard count > 0 else { break }
                after += UInt32(count)
            }
        }
        blackHole(sink)
    }
}

/// Keeps a computed value alive so the optimizer cannot drop the work behind it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
