/// Scenario 1: durable appends (`sync`; SQLite `synchronous=FULL`): throughput and
/// per-append latency, with 1, 8 or 64 blocking appenders or an asynchronous window.
enum DurableAppendScenario {
    static let name = "append-sync"

    static func run(_ context: ScenarioContext) throws -> ChildReport {
        let form = try AppendForm(context.arguments)
        let engine = try AppendEngines.open(context, durable: true, form: form)
        let measurement = AppendDriver.run(form, engine: engine, workload: context.workload,
                                           warmUp: context.warmUp, seconds: context.seconds)
        return try AppendEngines.finish(engine, measurement, context, context.report(name))
    }
}

/// Opening and closing the append engines, shared by the append scenarios.
enum AppendEngines {
    static func open(_ context: ScenarioContext, durable: Bool, form: AppendForm) throws -> any AppendEngine {
        switch context.engine {
        case .seqbox:
            return try SeqboxAppendEngine(directory: context.dataPath, durability: durable ? .sync : .none)
        case .sqlite:
            // A lone blocking appender (or batch writer) owns the connection; anything
            // concurrent or asynchronous goes through the batching writer thread.
            let direct: Bool
            switch form {
            case .blocking(let threads): direct = threads == 1
            case .batches: direct = true
            case .asynchronous: direct = false
            }
            return try SQLiteAppendEngine(path: context.dataPath, durable: durable, direct: direct)
        }
    }

    static func finish(_ engine: any AppendEngine, _ measurement: AppendMeasurement, _ context: ScenarioContext,
                       _ report: ChildReport) throws -> ChildReport {
        var report = report
        report.notes = engine.counters()
        try engine.close()
        guard measurement.failures == 0 else { throw BenchError("\(measurement.failures) appends failed") }
        report.operations = measurement.appends
        report.messages = measurement.messages
        report.seconds = measurement.seconds
        report.latency = measurement.latency.summary
        report.peakResidentBytes = ProcessMetrics.peakResidentBytes()
        report.storeBytes = FileTree.allocatedBytes(context.directory)
        return report
    }
}
