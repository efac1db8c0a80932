#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `seqbox-bench e2e`: Seqbox and Redis Streams measured end to end over loopback TCP in one
/// run, with the same connections, offered rates and payloads, one engine after the other.
enum E2EBenchmark {
    static func run(_ arguments: [String]) throws -> Int32 {
        let config = try E2EConfig(arguments)
        SpawnedProcesses.installSignalForwarding()
        let redisEngines = config.engines.filter { !$0.isSeqbox }
        if !redisEngines.isEmpty && config.redisServer == nil && ServiceProcess.findOnPath("redis-server") == nil {
            throw BenchError("redis-server is not on PATH (needed for \(redisEngines.map(\.rawValue).joined(separator: ", "))): "
                + "install Debian's redis-server package (`make deps` does), pass --redis-server PATH, or use --engines seqbox")
        }
        let seqboxd = config.engines.contains(where: \.isSeqbox) && config.server == nil ? try SeqboxServerProcess.executablePath() : nil

        try FileTree.createDirectory(config.directory)
        defer { if !config.keepData { FileTree.remove(config.directory) } }
        let machine = MachineInfo.current(directory: config.directory)
        let checks = try E2ESelfCheck.run(seqboxd: seqboxd, directory: config.directory + "/selfcheck")
        let waits = LoadPoller.preciseTimeoutsAvailable ? "epoll_pwait2 (ns timeouts)" : "epoll_wait (ms timeouts: sends up to 1 ms late)"
        printError("seqbox-bench e2e: \(machine.cpuModel), \(machine.cores) cores, data on \(machine.fileSystem); load waits: \(waits); self-check: \(checks.count) checks passed")

        let started = Clock.nanoseconds()
        let runner = E2EEngineRunner(config: config, payloads: payloads(bytes: config.payloadBytes, seed: config.seed), log: printError)
        var results: [E2EEngineResult] = []
        for engine in config.engines where !SpawnedProcesses.interrupted { results.append(runner.run(engine)) }
        if SpawnedProcesses.interrupted { throw BenchError("interrupted") }

        // The secret of a server given with --server stays out of the output.
        let shown = arguments.enumerated().map { $0.offset > 0 && arguments[$0.offset - 1] == "--secret" ? "HEX" : $0.element }
        let command = "seqbox-bench e2e " + shown.map { $0.contains(" ") || $0.isEmpty ? "\"\($0)\"" : $0 }.joined(separator: " ")
        var reported = config
        reported.secretHex = config.secretHex.map { _ in "(not shown)" }
        let targets = E2ETargets.evaluate(results, config: config)
        let output = E2EOutput(command: command, machine: machine, loadAverageAtEnd: MachineInfo.currentLoadAverage(),
                               seconds: Clock.seconds(since: started), config: reported, engines: results, targets: targets, selfChecks: checks)
        print(E2EReport.render(output))
        if let path = config.jsonPath {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(output)
            guard writeTextFile(path, String(decoding: data, as: UTF8.self) + "\n") else { throw BenchError("cannot write \(path)") }
        }
        return results.contains { !$0.errors.isEmpty } ? 1 : 0
    }

    /// `seqbox-bench e2e-selfcheck`: the self-check alone, one line per check.
    static func runSelfCheck(_ arguments: [String]) throws -> Int32 {
        let directory = "/var/tmp/seqbox-bench-selfcheck-\(getpid())"
        defer { FileTree.remove(directory) }
        let seqboxd = try? SeqboxServerProcess.executablePath()
        let checks = try E2ESelfCheck.run(seqboxd: seqboxd, directory: directory)
        for check in checks { print("ok \(check)") }
        print("self-check: \(checks.count) checks passed" + (seqboxd == nil ? " (seqboxd not built: token comparison skipped)" : ""))
        return 0
    }

    /// The message payloads: text-like chat (`TextPayload`) from the seed, a pool both
    /// engines cycle through in the same order.
    static func payloads(bytes: Int, seed: UInt64) -> [[UInt8]] {
        var random = BenchRandom(seed: seed, stream: 0xE2E0_0001)
        return (0 ..< Workload.payloadPoolSize).map { _ in TextPayload.make(bytes: bytes, random: &random) }
    }
}

/// The `--json` document of `seqbox-bench e2e`.
struct E2EOutput: Codable {
    var command: String
    var machine: MachineInfo
    var loadAverageAtEnd: String
    var seconds: Double
    var config: E2EConfig
    var engines: [E2EEngineResult]
    var targets: [TargetCheck]
    var selfChecks: [String]
}
