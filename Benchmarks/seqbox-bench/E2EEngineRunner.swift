#if canImport(Glibc)
import Glibc
#endif
import SeqboxSystem

/// Measures one engine end to end: starts its server (or uses the given Seqbox server),
/// connects every pair, measures the server's memory per connection, then runs the phases on
/// the load threads (warm-up, the fixed rate, the sweep, half the saturation rate, overload)
/// and stops the server by PID.
struct E2EEngineRunner {
    /// User IDs: pair j is sender `senderUserBase + j` → recipient `recipientUserBase + j`.
    static let senderUserBase: UInt64 = 1_000_000
    static let recipientUserBase: UInt64 = 2_000_000
    /// Wait after connecting everyone before reading the server's memory.
    static let settleSeconds = 0.3

    let config: E2EConfig
    let payloads: [[UInt8]]
    let log: (String) -> Void

    static func senderUser(_ pair: Int) -> UInt64 { senderUserBase + UInt64(pair) }
    static func recipientUser(_ pair: Int) -> UInt64 { recipientUserBase + UInt64(pair) }

    func run(_ engine: E2EEngine) -> E2EEngineResult {
        var result = E2EEngineResult(engine: engine, connections: config.connections)
        do {
            if engine.isSeqbox {
                try runSeqbox(engine, &result)
            } else {
                try runRedis(engine, &result)
            }
        } catch {
            result.errors.append("\(error)")
            log("[\(engine.rawValue)] FAILED: \(error)")
        }
        return result
    }

    // MARK: Engines

    private func runSeqbox(_ engine: E2EEngine, _ result: inout E2EEngineResult) throws {
        let secret: [UInt8]
        let address: IPv4SocketAddress
        var server: SeqboxServerProcess?
        var nodes: [SeqboxServerProcess] = []
        defer {
            server?.stop()
            for node in nodes { node.stop() }
        }
        if engine == .seqboxCluster {
            secret = try LoginTokenMinter.randomSecret()
            let executable = try SeqboxServerProcess.executablePath()
            for index in 0 ..< 2 {
                nodes.append(try SeqboxServerProcess(executable: executable, directory: config.directory + "/seqbox-cluster/node\(index)",
                                                     secret: secret, extraArguments: ["--role", "storage"] + config.seqboxdArguments))
            }
            let list = nodes.map { "127.0.0.1:\($0.address.port)" }.joined(separator: ",")
            let started = try SeqboxServerProcess(executable: executable, directory: config.directory + "/seqbox-cluster/gateway", secret: secret,
                                                  extraArguments: ["--role", "gateway", "--storage", list] + config.seqboxdArguments)
            server = started
            address = started.address
            result.serverCommand = "seqboxd " + started.arguments.joined(separator: " ") + "; nodes: "
                + nodes.map { "seqboxd " + $0.arguments.joined(separator: " ") }.joined(separator: "; ")
        } else if let external = config.server {
            address = try LoadSockets.address(external)
            secret = LoginTokenMinter.bytes(hex: config.secretHex ?? "") ?? []
            result.serverCommand = "seqboxd at \(external) (not started by the benchmark)"
        } else {
            secret = try LoginTokenMinter.randomSecret()
            let started = try SeqboxServerProcess(executable: try SeqboxServerProcess.executablePath(), directory: config.directory + "/seqbox",
                                                  secret: secret, extraArguments: config.seqboxdArguments)
            server = started
            address = started.address
            result.serverCommand = "seqboxd " + started.arguments.joined(separator: " ")
        }
        let pid = server?.process.pid ?? config.serverPID
        let nodeCPUBefore = nodes.map { ProcessStat.cpuSeconds(pid: $0.process.pid) ?? 0 }
        let connector = SeqboxConnector(address: address, minter: LoginTokenMinter(secret: secret))

        result.serverResidentBeforeConnectBytes = pid.flatMap { ProcessStat.residentBytes(pid: $0) }
        let started = Clock.nanoseconds()
        let senders = try connector.connect(users: (0 ..< config.pairs).map(Self.senderUser))
        defer { for sender in senders { LoadConnection.closeResetting(sender.fd) } }
        let recipients = try connector.connect(users: (0 ..< config.pairs).map(Self.recipientUser))
        defer { for recipient in recipients { LoadConnection.closeResetting(recipient.fd) } }
        measureConnections(&result, started: started, pid: pid)

        let loops = try (0 ..< config.threads).map { thread in
            let pairs = Array(stride(from: thread, to: config.pairs, by: config.threads))
            let client = SeqboxLoadClient(pairs: pairs.map {
                SeqboxLoadClient.Pair(senderUser: Self.senderUser($0), recipientUser: Self.recipientUser($0),
                                      recipientNewestSeq: recipients[$0].login.newestSeq, recipientEpoch: recipients[$0].login.epoch)
            })
            return try makeLoop(thread: thread, pairs: pairs.map { (senders[$0].fd, recipients[$0].fd) }, client: client)
        }
        do {
            try runPhases(LoadGenerator(loops: loops, serverPID: pid), engine: engine, hasNotifications: true, &result)
        } catch {
            if let server, !server.process.isRunning { throw BenchError("\(error)\nseqboxd exited:\n\(server.process.logTail())") }
            if let node = nodes.first(where: { !$0.process.isRunning }) { throw BenchError("\(error)\nstorage node exited:\n\(node.process.logTail())") }
            throw error
        }
        if !nodes.isEmpty {
            // The phases' server figures are the gateway's; the nodes' CPU over the whole run
            // (connecting, every phase, draining) is reported beside them.
            let seconds = zip(nodes, nodeCPUBefore).map { node, before in (ProcessStat.cpuSeconds(pid: node.process.pid) ?? before) - before }
            result.storageNodesCPUSeconds = seconds
            log("[\(engine.rawValue)] storage nodes' CPU over the whole run: " + seconds.map { Format.number($0) + " s" }.joined(separator: ", "))
        }
        result.serverPeakResidentBytes = pid.flatMap { ProcessStat.peakResidentBytes(pid: $0) }
    }

    private func runRedis(_ engine: E2EEngine, _ result: inout E2EEngineResult) throws {
        let directory = config.directory + "/" + engine.rawValue
        let server = try RedisServerProcess(directory: directory, appendfsync: engine.appendfsync!, connections: config.connections,
                                            executable: config.redisServer)
        defer {
            server.stop()
            if !config.keepData { FileTree.remove(directory) }
        }
        result.serverCommand = "redis-server " + server.arguments.map { $0.isEmpty ? "\"\"" : $0 }.joined(separator: " ")
        result.serverVersion = server.version
        let pid = server.process.pid
        let connector = RedisConnector(address: server.address)

        result.serverResidentBeforeConnectBytes = ProcessStat.residentBytes(pid: pid)
        let started = Clock.nanoseconds()
        let senders = try connector.connect(count: config.pairs)
        defer { for fd in senders { LoadConnection.closeResetting(fd) } }
        let recipients = try connector.connect(count: config.pairs)
        defer { for fd in recipients { LoadConnection.closeResetting(fd) } }
        measureConnections(&result, started: started, pid: pid)

        let loops = try (0 ..< config.threads).map { thread in
            let pairs = Array(stride(from: thread, to: config.pairs, by: config.threads))
            let client = RedisLoadClient(pairs: pairs.map { (Self.senderUser($0), Self.recipientUser($0)) })
            return try makeLoop(thread: thread, pairs: pairs.map { (senders[$0], recipients[$0]) }, client: client)
        }
        do {
            try runPhases(LoadGenerator(loops: loops, serverPID: pid), engine: engine, hasNotifications: false, &result)
        } catch {
            if !server.process.isRunning { throw BenchError("\(error)\nredis-server exited:\n\(server.process.logTail())") }
            throw error
        }
        result.serverPeakResidentBytes = ProcessStat.peakResidentBytes(pid: pid)
    }

    // MARK: Shared steps

    private func measureConnections(_ result: inout E2EEngineResult, started: UInt64, pid: pid_t?) {
        result.connectSeconds = Clock.seconds(since: started)
        Clock.sleep(seconds: Self.settleSeconds)
        result.serverResidentAfterConnectBytes = pid.flatMap { ProcessStat.residentBytes(pid: $0) }
        if let before = result.serverResidentBeforeConnectBytes, let after = result.serverResidentAfterConnectBytes {
            result.memoryPerConnectionBytes = Double(after - before) / Double(config.connections)
        }
        log("[\(result.engine.rawValue)] \(config.connections) connections in \(Format.number(result.connectSeconds)) s"
            + (result.memoryPerConnectionBytes.map { ", server RSS +\(Format.number($0)) B per connection" } ?? ""))
    }

    private func makeLoop<Client: LoadClient>(thread: Int, pairs: [(sender: Int32, recipient: Int32)], client: Client) throws -> LoadLoop<Client> {
        try LoadLoop(pairs: pairs, client: client, share: Double(pairs.count) / Double(config.pairs), outstandingMax: config.outstandingMax,
                     payloads: payloads, payloadOffset: thread * payloads.count / config.threads)
    }

    /// Warm-up, the fixed rate, and with `--sweep` the sweep, half the saturation rate and
    /// the overload phase.
    private func runPhases<Client: LoadClient>(_ generator: LoadGenerator<Client>, engine: E2EEngine, hasNotifications: Bool,
                                               _ result: inout E2EEngineResult) throws {
        try generator.run { generator in
            /// `judged`: a sweep step, logged with whether it stayed within the bound.
            func phase(_ name: String, rate: Double, seconds: Double, judged: Bool = false) throws -> E2EPhaseResult {
                let outcome = try generator.runPhase(name: name, rate: rate, seconds: seconds, drainSeconds: config.drainSeconds)
                var measured = E2EPhaseResult(outcome, hasNotifications: hasNotifications)
                if judged { measured.withinBound = E2ESweep.passes(measured, config: config) }
                log("[\(engine.rawValue)] " + measured.progressLine)
                Clock.sleep(seconds: config.pauseSeconds)
                return measured
            }
            if config.warmUpSeconds > 0 { _ = try phase("warm-up", rate: config.rate, seconds: config.warmUpSeconds) }
            result.fixedRate = try phase("rate", rate: config.rate, seconds: config.seconds)
            guard config.sweep else { return }
            let (steps, saturation) = try E2ESweep.run(config: config) { rate, name in try phase(name, rate: rate, seconds: config.sweepSeconds, judged: true) }
            result.sweepSteps = steps
            result.saturation = saturation
            if let last = steps.last, !last.settled, let phase = generator.phases.last {
                // Its backlog must not load the next phase: give it another drain period.
                let extra = config.drainSeconds * 3
                let drained = try generator.waitUntilSettled(phase, deadline: Clock.nanoseconds() + UInt64(extra * 1e9))
                log("[\(engine.rawValue)] the last sweep step \(drained ? "settled" : "did not settle") within another \(Format.number(extra)) s")
                guard drained else { return }
            }
            if let rate = saturation.rate {
                result.halfSaturation = try phase("half-saturation", rate: E2ESweep.rounded(rate / 2), seconds: config.seconds)
            }
            if config.overloadRate > 0 {
                result.overload = try phase("overload", rate: config.overloadRate, seconds: config.sweepSeconds)
            }
        }
    }
}
