#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `seqbox-bench store-child SCENARIO --engine E --dir D ...`: runs one scenario in this
/// process (so its peak RSS is the scenario's own) and prints a `ChildReport` as one JSON line.
enum ChildCommand {
    static let scenarioNames = [DurableAppendScenario.name, NonDurableAppendScenario.name, PopulateScenario.name,
                                RangeReadScenario.name, OpenScenario.name]

    static func scenario(_ name: String) -> ((ScenarioContext) throws -> ChildReport)? {
        switch name {
        case DurableAppendScenario.name: DurableAppendScenario.run
        case NonDurableAppendScenario.name: NonDurableAppendScenario.run
        case PopulateScenario.name: PopulateScenario.run
        case RangeReadScenario.name: RangeReadScenario.run
        case OpenScenario.name: OpenScenario.run
        default: nil
        }
    }

    static func run(_ arguments: [String]) throws {
        let parsed = try Arguments(arguments, switches: ["cold"])
        guard let name = parsed.positional.first, let run = scenario(name) else {
            throw BenchError("store-child needs a scenario: \(scenarioNames.joined(separator: ", "))")
        }
        let context = try ScenarioContext(parsed)
        try FileTree.createDirectory(context.directory)
        ChildOutput.emit(try run(context))
    }
}

/// The child's side of the report pipe.
enum ChildOutput {
    static func emit(_ report: ChildReport) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(report) else { return }
        var bytes = [UInt8](data)
        bytes.append(10)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }

    static func decode(_ line: String) throws -> ChildReport {
        try JSONDecoder().decode(ChildReport.self, from: Data(line.utf8))
    }
}
