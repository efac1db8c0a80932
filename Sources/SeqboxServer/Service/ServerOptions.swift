import SeqboxProtocol
import SeqboxStore

/// The settings of `seqboxd serve`: from environment variables, then command-line flags
/// (flags win). Every option has both; `seqboxd --help` prints the table.
public struct ServerOptions: Sendable {
    /// Default TCP port.
    public static let defaultPort: UInt16 = 7420

    public var host = "127.0.0.1"
    public var port: UInt16 = ServerOptions.defaultPort
    /// Where to write the bound port once listening (useful with port 0).
    public var portFile: String?
    public var dataDirectory = "./data"
    public var durability: Durability = .sync
    public var logLevel: ServerLogLevel = .info
    /// Event loops; nil: one per core.
    public var eventLoops: Int?
    public var connectionsMax: Int?
    public var idleTimeoutMs: UInt32?
    public var heartbeatIntervalMs: UInt32?
    public var handshakeTimeoutMs: UInt32?
    public var outputBufferBytesMax: Int?
    public var requestsInFlightMax: Int?
    public var segmentBytes: Int?
    public var service = ServiceConfiguration()
    public var filterKeywords: [String] = []
    public var filterPatterns: [String] = []
    /// How long shutdown waits for in-flight writes.
    public var shutdownTimeoutMs = 10_000
    /// Offline push (webhook) settings.
    public var push = PushOptions()
    /// Role and storage-node settings.
    public var cluster = ClusterOptions()

    public init() {}

    /// A bad flag, value or environment variable.
    public struct UsageError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// One option: its flag, environment variable, value name, help and how it applies.
    struct Option: Sendable {
        var flag: String
        var environment: String?
        var value: String
        var help: String
        var repeatable = false
        var apply: @Sendable (inout ServerOptions, String) throws(UsageError) -> Void
    }

    /// Every option: the core ones, then offline push, then role and cluster.
    static let options: [Option] = coreOptions + pushOptions + clusterOptions

    static let coreOptions: [Option] = [
        Option(flag: "--listen", environment: "SEQBOX_LISTEN", value: "ADDRESS", help: "IPv4 address to listen on (default 127.0.0.1: loopback only)") { o, v throws(UsageError) in o.host = v },
        Option(flag: "--port", environment: "SEQBOX_PORT", value: "PORT", help: "TCP port (default \(defaultPort); 0: any free port)") { o, v throws(UsageError) in o.port = try number(v, "--port") },
        Option(flag: "--port-file", environment: "SEQBOX_PORT_FILE", value: "PATH", help: "write the bound port to PATH once listening") { o, v throws(UsageError) in o.portFile = v },
        Option(flag: "--data", environment: "SEQBOX_DATA", value: "DIR", help: "data directory: the store and the token secret (default ./data)") { o, v throws(UsageError) in o.dataDirectory = v },
        Option(flag: "--durability", environment: "SEQBOX_DURABILITY", value: "MODE", help: "sync (default: answer after fdatasync), interval:MS, or none") { o, v throws(UsageError) in
            guard let mode = Durability(parsing: v) else { throw UsageError("--durability: expected sync, interval:MS or none, got \(v)") }
            o.durability = mode
        },
        Option(flag: "--log-level", environment: "SEQBOX_LOG_LEVEL", value: "LEVEL", help: "debug, info (default), warning or error") { o, v throws(UsageError) in
            guard let level = ServerLogLevel(parsing: v) else { throw UsageError("--log-level: expected debug, info, warning or error, got \(v)") }
            o.logLevel = level
        },
        Option(flag: "--event-loops", environment: "SEQBOX_EVENT_LOOPS", value: "N", help: "event-loop threads (default: one per core)") { o, v throws(UsageError) in o.eventLoops = try number(v, "--event-loops", min: 1) },
        Option(flag: "--connections-max", environment: "SEQBOX_CONNECTIONS_MAX", value: "N", help: "connections held at once (default 19000, capped by the open-files limit)") { o, v throws(UsageError) in o.connectionsMax = try number(v, "--connections-max", min: 1) },
        Option(flag: "--send-rate", environment: "SEQBOX_SEND_RATE", value: "N", help: "SENDs per second per sender (default 50; 0: unlimited)") { o, v throws(UsageError) in
            let rate: Double = try decimal(v, "--send-rate")
            o.service.sendRate = rate == 0 ? .unlimited : RateLimit(perSecond: rate, burst: max(1, o.service.sendRate.isUnlimited ? rate * 2 : o.service.sendRate.burst))
        },
        Option(flag: "--send-burst", environment: "SEQBOX_SEND_BURST", value: "N", help: "SENDs a sender may make at once before the rate applies (default 100)") { o, v throws(UsageError) in
            let burst: Double = try decimal(v, "--send-burst")
            guard burst >= 1 else { throw UsageError("--send-burst must be at least 1") }
            if !o.service.sendRate.isUnlimited { o.service.sendRate = RateLimit(perSecond: o.service.sendRate.perSecond, burst: burst) }
        },
        Option(flag: "--message-bytes-max", environment: "SEQBOX_MESSAGE_BYTES_MAX", value: "BYTES", help: "largest message body (default and maximum 65536)") { o, v throws(UsageError) in o.service.messageBodySizeMax = try number(v, "--message-bytes-max", min: 0, max: ProtocolConstants.messageBodySizeMax) },
        Option(flag: "--pull-limit-max", environment: "SEQBOX_PULL_LIMIT_MAX", value: "N", help: "most records per PULL_OK (default 256)") { o, v throws(UsageError) in o.service.pullLimitMax = try number(v, "--pull-limit-max", min: 1, max: ProtocolConstants.pullLimitMax) },
        Option(flag: "--idle-timeout-ms", environment: "SEQBOX_IDLE_TIMEOUT_MS", value: "MS", help: "close connections silent this long (default 90000)") { o, v throws(UsageError) in o.idleTimeoutMs = try number(v, "--idle-timeout-ms", min: 1) },
        Option(flag: "--heartbeat-ms", environment: "SEQBOX_HEARTBEAT_MS", value: "MS", help: "heartbeat interval advertised to clients (default 30000)") { o, v throws(UsageError) in o.heartbeatIntervalMs = try number(v, "--heartbeat-ms", min: 1) },
        Option(flag: "--handshake-timeout-ms", environment: "SEQBOX_HANDSHAKE_TIMEOUT_MS", value: "MS", help: "close connections not logged in this long after connecting (default 10000)") { o, v throws(UsageError) in o.handshakeTimeoutMs = try number(v, "--handshake-timeout-ms", min: 1) },
        Option(flag: "--output-buffer-bytes", environment: "SEQBOX_OUTPUT_BUFFER_BYTES", value: "BYTES", help: "per-connection output bound; beyond it the client is a slow consumer (default 4 MiB)") { o, v throws(UsageError) in o.outputBufferBytesMax = try number(v, "--output-buffer-bytes", min: 1) },
        Option(flag: "--requests-in-flight-max", environment: "SEQBOX_REQUESTS_IN_FLIGHT_MAX", value: "N", help: "unanswered requests per connection (default 64)") { o, v throws(UsageError) in o.requestsInFlightMax = try number(v, "--requests-in-flight-max", min: 1, max: Int(UInt16.max)) },
        Option(flag: "--segment-bytes", environment: "SEQBOX_SEGMENT_BYTES", value: "BYTES", help: "log segment size (default 64 MiB)") { o, v throws(UsageError) in o.segmentBytes = try number(v, "--segment-bytes", min: 1) },
        Option(flag: "--filter-keyword", environment: "SEQBOX_FILTER_KEYWORDS", value: "WORD", help: "refuse messages containing WORD (repeatable; the variable takes a comma-separated list)", repeatable: true) { o, v throws(UsageError) in
            o.filterKeywords += v.split(separator: ",").map { String($0) }.filter { !$0.isEmpty }
        },
        Option(flag: "--filter-pattern", environment: "SEQBOX_FILTER_PATTERN", value: "REGEX", help: "refuse messages matching REGEX (repeatable)", repeatable: true) { o, v throws(UsageError) in o.filterPatterns.append(v) },
        Option(flag: "--shutdown-timeout-ms", environment: "SEQBOX_SHUTDOWN_TIMEOUT_MS", value: "MS", help: "on SIGTERM/SIGINT, wait this long for in-flight writes (default 10000)") { o, v throws(UsageError) in o.shutdownTimeoutMs = try number(v, "--shutdown-timeout-ms", min: 0) },
    ]

    /// Parses `arguments` (after the subcommand) over `environment`. Returns nil for `--help`.
    public static func parse(arguments: [String], environment: [String: String]) throws(UsageError) -> ServerOptions? {
        var result = ServerOptions()
        for option in options {
            guard let name = option.environment, let value = environment[name], !value.isEmpty else { continue }
            do throws(UsageError) { try option.apply(&result, value) } catch { throw UsageError("\(name): \(error)") }
        }
        var index = 0
        var seen: Set<String> = []
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--help" || argument == "-h" { return nil }
            var flag = argument
            var value: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                flag = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard let option = options.first(where: { $0.flag == flag }) else { throw UsageError("unknown option \(argument) (try --help)") }
            if value == nil {
                guard index + 1 < arguments.count else { throw UsageError("\(flag) needs a value") }
                index += 1
                value = arguments[index]
            }
            if option.repeatable && !seen.contains(flag) {
                // Flags replace what the environment set.
                if flag == "--filter-keyword" { result.filterKeywords = [] }
                if flag == "--filter-pattern" { result.filterPatterns = [] }
            }
            seen.insert(flag)
            try option.apply(&result, value!)
            index += 1
        }
        try result.validate()
        return result
    }

    func validate() throws(UsageError) {
        do { try service.validate() } catch { throw UsageError(error.description) }
        if let segmentBytes, segmentBytes < 4096 { throw UsageError("--segment-bytes must be at least 4096") }
        try cluster.validate()
    }

    /// The `--help` text.
    public static var usage: String {
        var lines = [
            "usage: seqboxd [serve] [options]",
            "       seqboxd token --user USER --device DEVICE [--ttl SECONDS] [--data DIR]",
            "",
            "Runs the Seqbox messaging server: clients connect over TCP (PROTOCOL.md), log in with a token",
            "from `seqboxd token`, and exchange messages stored durably under the data directory.",
            "SIGTERM or SIGINT stops it gracefully.",
            "",
            "options (flag, environment variable):",
        ]
        for option in options {
            let flag = "  \(option.flag) \(option.value)"
            lines.append(flag + String(repeating: " ", count: max(1, 35 - flag.count)) + option.help)
            if let environment = option.environment { lines.append(String(repeating: " ", count: 35) + "[\(environment)]") }
        }
        lines += [
            "  --help                           this text",
            "",
            "environment:",
            "  SEQBOX_SECRET                    token secret as hex (at least 16 bytes); without it the secret",
            "                                   is DATA/secret, created with mode 0600 on first start",
            "",
            "roles (--role): all runs everything in one process. A cluster runs storage nodes",
            "(--role storage: the store under --data, served over the storage RPC on --port) and gateways",
            "(--role gateway --storage HOST:PORT,...: clients connect here; each user's mailbox lives on",
            "one node, chosen by a hash of the user ID). Every process of a cluster must share the secret:",
            "set the same SEQBOX_SECRET for all of them. A gateway keeps only the secret and push state",
            "under --data.",
        ]
        return lines.joined(separator: "\n")
    }

    private static func number<Value: FixedWidthInteger>(_ text: String, _ flag: String, min: Value = .min, max: Value = .max) throws(UsageError) -> Value {
        guard let value = Value(text), value >= min, value <= max else {
            throw UsageError("\(flag): expected an integer in \(min)...\(max), got \(text)")
        }
        return value
    }

    private static func decimal(_ text: String, _ flag: String) throws(UsageError) -> Double {
        guard let value = Double(text), value >= 0, value.isFinite else { throw UsageError("\(flag): expected a non-negative number, got \(text)") }
        return value
    }
}
