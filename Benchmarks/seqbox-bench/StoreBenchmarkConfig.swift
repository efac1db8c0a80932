#if canImport(Glibc)
import Glibc
#endif

/// The settings of `seqbox-bench store`: the full scale by default, `--quick` for a run under
/// a minute, and overrides for each figure.
struct StoreBenchmarkConfig: Codable {
    var users = 10_000
    /// Messages of the read/open data set.
    var messages = 1_000_000
    /// The scale case of the open scenario.
    var largeUsers = 1_000_000
    var largeMessages = 10_000_000
    var appendSeconds = 4.0
    var readSeconds = 3.0
    /// Runs of each case per engine (engines alternating); the median run is shown.
    var repeats = 3
    var warmUpSeconds = 1.0
    var seed = Workload.defaultSeed
    var directory = ""
    var jsonPath: String?
    var engines = EngineKind.allCases
    /// Scenario groups to run: append-sync, append-none, read, open, open-large.
    var groups = StoreBenchmarkConfig.allGroups
    var keepData = false
    var quick = false

    static let allGroups = ["append-sync", "append-none", "read", "open", "open-large"]

    static let usage = """
        usage: seqbox-bench store [--quick] [--json FILE] [--dir DIR] [--keep]
                 [--users N] [--messages N] [--large-users N] [--large-messages N]
                 [--seconds S] [--read-seconds S] [--warmup S] [--repeat N] [--seed N]
                 [--engines seqbox,sqlite] [--only GROUP,...]
          groups: \(allGroups.joined(separator: ", "))
          --quick   everything at small scale (under a minute)
          --repeat  runs of each case per engine, alternating engines; the median is shown (default 3)
          --dir     where the stores are built (default /var/tmp/seqbox-bench-PID; removed after)
        """

    init(_ arguments: [String]) throws {
        let parsed = try Arguments(arguments, switches: ["quick", "keep", "help"])
        if parsed.has("help") { throw BenchError(Self.usage) }
        guard parsed.positional.isEmpty else { throw BenchError("unexpected argument \(parsed.positional[0])\n" + Self.usage) }
        if parsed.has("quick") {
            quick = true
            users = 1000
            messages = 50_000
            largeUsers = 20_000
            largeMessages = 200_000
            appendSeconds = 0.5
            readSeconds = 0.5
            warmUpSeconds = 0.1
            repeats = 1
        }
        users = try parsed.int("users", default: users)
        messages = try parsed.int("messages", default: messages)
        largeUsers = try parsed.int("large-users", default: largeUsers)
        largeMessages = try parsed.int("large-messages", default: largeMessages)
        appendSeconds = try parsed.double("seconds", default: appendSeconds)
        readSeconds = try parsed.double("read-seconds", default: readSeconds)
        warmUpSeconds = try parsed.double("warmup", default: warmUpSeconds)
        repeats = try parsed.int("repeat", default: repeats)
        seed = try parsed.uint64("seed") ?? seed
        directory = parsed.string("dir", default: "/var/tmp/seqbox-bench-\(getpid())")
        jsonPath = parsed.string("json")
        keepData = parsed.has("keep")
        if let list = parsed.string("engines") {
            engines = try list.split(separator: ",").map {
                guard let engine = EngineKind(rawValue: String($0)) else { throw BenchError("unknown engine \($0)") }
                return engine
            }
        }
        if let list = parsed.string("only") {
            groups = list.split(separator: ",").map(String.init)
            for group in groups where !Self.allGroups.contains(group) { throw BenchError("unknown group \(group)\n" + Self.usage) }
        }
        guard users >= 1, messages >= 1, largeUsers >= 1, largeMessages >= 1 else { throw BenchError("counts must be positive") }
        guard repeats >= 1 else { throw BenchError("--repeat must be positive") }
        guard appendSeconds > 0, readSeconds > 0, warmUpSeconds >= 0 else { throw BenchError("durations must be positive") }
    }

    func runs(_ group: String) -> Bool { groups.contains(group) }
}
