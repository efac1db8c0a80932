#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// The command line of `seqbox-bench`: `store` (the store benchmark, parent), `store-child`
/// (one scenario, started by `store`), `e2e` (the end-to-end benchmark against seqboxd and
/// Redis Streams) and `e2e-selfcheck` (its protocol code checked alone).
enum BenchMain {
    static let usage = """
        usage: seqbox-bench store [options]        Seqbox vs SQLite, store level (see --help)
               seqbox-bench store-child SCENARIO   one scenario in this process (used by store)
               seqbox-bench e2e [options]          Seqbox vs Redis Streams, end to end over TCP (see --help)
               seqbox-bench e2e-selfcheck          checks the e2e benchmark's token, frame and RESP code
        """

    static func run(_ arguments: [String]) -> Int32 {
        guard let command = arguments.first else {
            printError(usage)
            return 2
        }
        do {
            switch command {
            case "store":
                return try runStore(Array(arguments.dropFirst()))
            case "store-child":
                try ChildCommand.run(Array(arguments.dropFirst()))
                return 0
            case "e2e":
                return try E2EBenchmark.run(Array(arguments.dropFirst()))
            case "e2e-selfcheck":
                return try E2EBenchmark.runSelfCheck(Array(arguments.dropFirst()))
            default:
                printError(usage)
                return 2
            }
        } catch {
            printError("seqbox-bench \(command): \(error)")
            return 1
        }
    }

    static func runStore(_ arguments: [String]) throws -> Int32 {
        let config = try StoreBenchmarkConfig(arguments)
        try FileTree.createDirectory(config.directory)
        let machine = MachineInfo.current(directory: config.directory)
        printError("seqbox-bench store: \(machine.cpuModel), \(machine.cores) cores, \(machine.fileSystem), SQLite \(machine.sqliteVersion)")
        let benchmark = StoreBenchmark(config: config)
        let started = Clock.nanoseconds()
        try benchmark.run()
        let checks = TargetCheck.evaluate(benchmark.results)
        let command = "seqbox-bench store " + arguments.joined(separator: " ")

        var text = "\n## Store benchmark\n\n"
        text += "Command: `\(command)`\n"
        text += "Machine: \(machine.cpuModel), \(machine.cores) cores, \(machine.memoryBytes >> 30) GiB, \(machine.kernel); "
        text += "store file system: \(machine.fileSystem); SQLite \(machine.sqliteVersion); "
        text += "load average at start \(machine.loadAverage), at end \(MachineInfo.currentLoadAverage())\n"
        text += "Workload: \(Format.count(config.users)) users, \(Workload.payloadBytes)-byte text-like payloads, seed \(config.seed)"
        text += config.quick ? " (--quick: small scale, figures not comparable with the targets)\n\n" : "\n\n"
        text += ResultTable.render(benchmark.results, engines: config.engines) + "\n\n"
        text += ResultTable.renderTargets(checks) + "\n"
        text += "\nTotal time: \(Format.number(Clock.seconds(since: started))) s\n"
        print(text)

        if let path = config.jsonPath {
            let output = StoreBenchmarkOutput(command: command, machine: machine, config: config,
                                              cases: benchmark.results, targets: checks)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(output)
            guard writeTextFile(path, String(decoding: data, as: UTF8.self) + "\n") else { throw BenchError("cannot write \(path)") }
        }
        return benchmark.failed ? 1 : 0
    }
}

/// The `--json` document.
struct StoreBenchmarkOutput: Codable {
    var command: String
    var machine: MachineInfo
    var config: StoreBenchmarkConfig
    var cases: [CaseResult]
    var targets: [TargetCheck]
}
