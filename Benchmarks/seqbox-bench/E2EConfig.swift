#if canImport(Glibc)
import Glibc
#endif

/// The systems `seqbox-bench e2e` measures, one after the other in the same run.
enum E2EEngine: String, Codable, CaseIterable {
    case seqbox
    /// Redis Streams, AOF with `appendfsync always`: an append is answered after fsync, as a
    /// Seqbox SEND_OK is (durability `sync`).
    case redisAlways = "redis-always"
    /// Redis Streams, AOF with `appendfsync everysec`: up to a second of answered appends can
    /// be lost in a crash.
    case redisEverysec = "redis-everysec"
    /// Seqbox split in two roles: a gateway (`--role gateway`) in front of two storage nodes
    /// (`--role storage`), three processes on the same machine. Not run unless named.
    case seqboxCluster = "seqbox-cluster"

    /// What runs when `--engines` is not given.
    static let defaults: [E2EEngine] = [.seqbox, .redisAlways, .redisEverysec]

    var title: String {
        switch self {
        case .seqbox: "Seqbox"
        case .redisAlways: "Redis always"
        case .redisEverysec: "Redis everysec"
        case .seqboxCluster: "Seqbox gateway + 2 nodes"
        }
    }

    /// Whether the engine is a `seqboxd` (speaks the Seqbox protocol) rather than Redis.
    var isSeqbox: Bool { self == .seqbox || self == .seqboxCluster }

    var appendfsync: String? {
        switch self {
        case .seqbox, .seqboxCluster: nil
        case .redisAlways: "always"
        case .redisEverysec: "everysec"
        }
    }
}

/// Which latency decides whether a sweep step is within the p99 bound.
enum SweepMetric: String, Codable {
    /// send → SEND_OK / XADD reply: the durable acknowledgement.
    case ack
    /// send → the recipient holds the message (PULL_OK / XREAD).
    case delivery
}

/// The settings of `seqbox-bench e2e`.
struct E2EConfig: Codable {
    var connections = 1000
    /// Offered msgs/s of the fixed-rate phase (every engine runs it at the same rate).
    var rate = 20_000.0
    var seconds = 10.0
    var warmUpSeconds = 2.0
    var sweep = false
    var sweepStart = 10_000.0
    var sweepMax = 2_560_000.0
    var sweepSeconds = 5.0
    var bisectSteps = 3
    var sweepStepsMax = 12
    var p99BoundMs = 10.0
    /// With --sweep, a last phase offered far above capacity (0: none): what it achieves is
    /// the engine's capacity, bound or not.
    var overloadRate = 200_000.0
    var sweepMetric = SweepMetric.ack
    /// Longest wait after a phase for its replies and deliveries.
    var drainSeconds = 10.0
    /// Pause between phases (the servers settle).
    var pauseSeconds = 0.5
    /// Load-generator threads: one by default (it shares the two cores with the server).
    var threads = 1
    /// Unanswered sends per sender connection beyond which due sends are skipped (counted).
    var outstandingMax = 1024
    var payloadBytes = Workload.payloadBytes
    var seed = Workload.defaultSeed
    var engines = E2EEngine.defaults
    var directory = ""
    var jsonPath: String?
    var keepData = false
    var quick = false
    /// A Seqbox server not started by the benchmark (HOST:PORT), its secret and PID.
    var server: String?
    var secretHex: String?
    var serverPID: Int32?
    var seqboxdArguments: [String] = []
    var redisServer: String?

    static let connectionsMax = 10_000

    static let usage = """
        usage: seqbox-bench e2e [--quick] [--json FILE] [--connections N] [--rate MSGS_PER_S]
                 [--seconds S] [--warmup S] [--sweep] [--sweep-start R] [--sweep-max R]
                 [--sweep-seconds S] [--bisect-steps N] [--sweep-steps-max N] [--p99-bound-ms MS]
                 [--sweep-metric ack|delivery] [--overload-rate R] [--drain-seconds S] [--pause-seconds S]
                 [--threads 1|2 (default 1)]
                 [--outstanding-max N] [--payload-bytes N] [--seed N]
                 [--engines seqbox,redis-always,redis-everysec,seqbox-cluster] [--dir DIR] [--keep]
                 [--seqboxd-args "FLAGS"] [--redis-server PATH]
                 [--server HOST:PORT --secret HEX [--server-pid PID]]
          Half the connections send, half receive (pair i: sender user i → recipient user i).
          --rate        offered msgs/s of the fixed-rate phase, same for every engine (default 20000)
          --sweep       then step the rate up (doubling, then bisecting) to the highest rate whose
                        p99 (--sweep-metric, default ack: send → SEND_OK / XADD reply) stays within
                        --p99-bound-ms (default 10), each step --sweep-seconds long, and run a phase
                        at half that rate, then one at --overload-rate (default 200000; 0: none)
                        for --sweep-seconds: what it achieves is the capacity
          --quick       whole run under a minute: 200 connections, short phases, a 3-step sweep
          --server      a running seqboxd to measure instead of starting one (--secret: its token
                        secret as hex; --server-pid: its PID, for CPU and memory figures)
          --dir         where the servers keep their data (default /var/tmp/seqbox-bench-e2e-PID; removed after)
        """

    init(_ arguments: [String]) throws {
        let parsed = try Arguments(arguments, switches: ["quick", "keep", "help", "sweep"])
        if parsed.has("help") { throw BenchError(Self.usage) }
        guard parsed.positional.isEmpty else { throw BenchError("unexpected argument \(parsed.positional[0])\n" + Self.usage) }
        if parsed.has("quick") {
            quick = true
            connections = 200
            rate = 2000
            seconds = 1.5
            warmUpSeconds = 0.3
            sweep = true
            sweepStart = 2000
            sweepSeconds = 1
            bisectSteps = 0
            sweepStepsMax = 3
            overloadRate = 20_000
            drainSeconds = 3
            pauseSeconds = 0.2
        }
        sweep = sweep || parsed.has("sweep")
        connections = try parsed.int("connections", default: connections)
        rate = try parsed.double("rate", default: rate)
        seconds = try parsed.double("seconds", default: seconds)
        warmUpSeconds = try parsed.double("warmup", default: warmUpSeconds)
        sweepStart = try parsed.double("sweep-start", default: sweepStart)
        sweepMax = try parsed.double("sweep-max", default: sweepMax)
        sweepSeconds = try parsed.double("sweep-seconds", default: sweepSeconds)
        bisectSteps = try parsed.int("bisect-steps", default: bisectSteps)
        sweepStepsMax = try parsed.int("sweep-steps-max", default: sweepStepsMax)
        p99BoundMs = try parsed.double("p99-bound-ms", default: p99BoundMs)
        if let metric = parsed.string("sweep-metric") {
            guard let value = SweepMetric(rawValue: metric) else { throw BenchError("--sweep-metric: ack or delivery, not \(metric)") }
            sweepMetric = value
        }
        overloadRate = try parsed.double("overload-rate", default: overloadRate)
        drainSeconds = try parsed.double("drain-seconds", default: drainSeconds)
        pauseSeconds = try parsed.double("pause-seconds", default: pauseSeconds)
        threads = try parsed.int("threads", default: threads)
        outstandingMax = try parsed.int("outstanding-max", default: outstandingMax)
        payloadBytes = try parsed.int("payload-bytes", default: payloadBytes)
        seed = try parsed.uint64("seed") ?? seed
        if let list = parsed.string("engines") {
            engines = try list.split(separator: ",").map {
                guard let engine = E2EEngine(rawValue: String($0)) else { throw BenchError("unknown engine \($0)\n" + Self.usage) }
                return engine
            }
        }
        directory = parsed.string("dir", default: "/var/tmp/seqbox-bench-e2e-\(getpid())")
        jsonPath = parsed.string("json")
        keepData = parsed.has("keep")
        server = parsed.string("server")
        secretHex = parsed.string("secret")
        serverPID = try parsed.int("server-pid").map { Int32($0) }
        seqboxdArguments = parsed.string("seqboxd-args").map { $0.split(separator: " ").map(String.init) } ?? []
        redisServer = parsed.string("redis-server")

        guard connections >= 2, connections % 2 == 0, connections <= Self.connectionsMax else {
            throw BenchError("--connections must be even, from 2 to \(Self.connectionsMax)")
        }
        guard rate > 0, sweepStart > 0, sweepMax >= sweepStart, overloadRate >= 0 else { throw BenchError("rates must be positive, --sweep-max ≥ --sweep-start") }
        guard seconds > 0, warmUpSeconds >= 0, sweepSeconds > 0, drainSeconds > 0, pauseSeconds >= 0 else { throw BenchError("durations must be positive") }
        guard threads >= 1, threads <= 2, threads <= connections / 2 else { throw BenchError("--threads is 1 or 2 (and at most one per pair)") }
        guard bisectSteps >= 0, sweepStepsMax >= 1, p99BoundMs > 0, outstandingMax >= 1 else { throw BenchError("sweep bounds must be positive") }
        guard payloadBytes >= 1, payloadBytes <= 65_536 else { throw BenchError("--payload-bytes: 1...65536") }
        guard !engines.isEmpty else { throw BenchError("--engines: name at least one") }
        if server != nil {
            guard let secretHex, let secret = LoginTokenMinter.bytes(hex: secretHex), secret.count >= 16 else {
                throw BenchError("--server needs --secret HEX: the server's token secret (SEQBOX_SECRET), at least 16 bytes")
            }
        }
    }

    var pairs: Int { connections / 2 }
}
