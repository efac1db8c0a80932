/// Scenario 2: non-durable appends (`none`; SQLite `synchronous=NORMAL`), one writer:
/// blocking single appends, batches, or an asynchronous window.
enum NonDurableAppendScenario {
    static let name = "append-none"

    static func run(_ context: ScenarioContext) throws -> ChildReport {
        let form = try AppendForm(context.arguments)
        let engine = try AppendEngines.open(context, durable: false, form: form)
        let measurement = AppendDriver.run(form, engine: engine, workload: context.workload,
                                           warmUp: context.warmUp, seconds: context.seconds)
        return try AppendEngines.finish(engine, measurement, context, context.report(name))
    }
}
