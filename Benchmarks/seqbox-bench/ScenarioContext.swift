/// The settings every scenario child receives from the parent.
struct ScenarioContext {
    let engine: EngineKind
    /// The scenario's own directory (the engine's files live inside it).
    let directory: String
    let workload: Workload
    let warmUp: Double
    let seconds: Double
    let arguments: Arguments

    init(_ arguments: Arguments) throws {
        guard let engine = EngineKind(rawValue: try arguments.required("engine")) else {
            throw BenchError("--engine must be seqbox or sqlite")
        }
        self.engine = engine
        directory = try arguments.required("dir")
        let users = try arguments.int("users", default: 10_000)
        guard users >= 1 else { throw BenchError("--users must be positive") }
        guard let seed = try arguments.uint64("seed") else { throw BenchError("--seed is required") }
        workload = Workload(users: users, seed: seed)
        warmUp = try arguments.double("warmup", default: 1)
        seconds = try arguments.double("seconds", default: 10)
        self.arguments = arguments
    }

    var dataPath: String { engine.dataPath(in: directory) }

    func report(_ scenario: String) -> ChildReport { ChildReport(scenario: scenario, engine: engine) }
}
