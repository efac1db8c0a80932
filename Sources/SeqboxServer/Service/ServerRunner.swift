#if canImport(Glibc)
import Glibc
#endif
import SeqboxProtocol
import SeqboxStore
import SeqboxSystem

/// Runs `seqboxd serve` in its role. `all` (the default): opens the store, starts the service
/// and the access layer, waits for SIGTERM or SIGINT, then shuts down gracefully: refuse new
/// writes, let in-flight appends complete and their replies go out, GOODBYE and close every
/// connection, close the store (final sync and checkpoint). `storage` and `gateway`: the two
/// halves of a cluster (`ServerRunner+StorageNode.swift`, `ServerRunner+Gateway.swift`).
///
/// Signals are blocked in every thread (the mask is set before any thread starts, and threads
/// inherit it) and taken synchronously with sigwait(3) on the calling thread, so no handler
/// runs in an arbitrary thread and no signalfd is needed.
public enum ServerRunner {
    /// Exit status for bad usage.
    public static let exitUsage: Int32 = 2
    /// Exit status for a failure to start (store, secret, listener).
    public static let exitStartFailure: Int32 = 1

    /// Serves until SIGTERM or SIGINT in the role the options name (`all`, `storage` or
    /// `gateway`). Returns the process exit status.
    public static func run(options: ServerOptions, environment: [String: String]) -> Int32 {
        let log = ServerLog(level: options.logLevel)
        var signals = shutdownSignals()
        // A shell may start background jobs with SIGINT ignored; an ignored signal never
        // reaches sigwait, so restore the default (it never runs: the signals stay blocked).
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)
        switch options.cluster.role {
        case .all: return runAll(options: options, environment: environment, signals: &signals, log: log)
        case .storage: return runStorageNode(options: options, environment: environment, signals: &signals, log: log)
        case .gateway: return runGateway(options: options, environment: environment, signals: &signals, log: log)
        }
    }

    /// The embedded form: the store, the service and the access layer in this process.
    private static func runAll(options: ServerOptions, environment: [String: String], signals: inout sigset_t, log: ServerLog) -> Int32 {
        log.info("starting", "pid=\(getpid()) data=\(options.dataDirectory) durability=\(options.durability) protocol_version=\(ProtocolConstants.protocolVersion)")

        guard let (store, service, push) = openStoreAndService(options: options, environment: environment, log: log) else {
            return exitStartFailure
        }
        let access = AccessServer(configuration: accessConfiguration(options: options, service: service.configuration, log: log), handler: service)
        guard startListening(access, options: options, log: log, fields: {
            "event_loops=\($0.configuration.eventLoopCount) connections_max=\($0.effectiveConnectionsMax)"
        }) else {
            push.stop()
            try? store.close()
            return exitStartFailure
        }

        let received = waitForSignal(&signals)
        log.info("shutdown_begin", "signal=\(signalName(received)) connections=\(service.openConnectionCount) writes_in_flight=\(service.writes.count)")
        drainWrites(service.writes, options: options, log: log)
        access.stop()
        push.stop()
        let status = closeStore(store, options: options, log: log)
        log.info("shutdown_complete", "\(service.report) \(access.statistics.logFields) \(push.statistics)")
        return status
    }

    /// The secret, the store and the service; logs and returns nil on failure.
    private static func openStoreAndService(options: ServerOptions, environment: [String: String], log: ServerLog) -> (MailboxStore, MessagingService, PushRuntime)? {
        guard let secret = loadSecret(options: options, environment: environment, log: log),
              let store = openStore(options: options, log: log) else { return nil }
        guard let filter = makeContentFilter(options: options, log: log) else {
            try? store.close()
            return nil
        }
        var configuration = options.service
        configuration.messageBodySizeMax = min(configuration.messageBodySizeMax, store.options.payloadBytesMax)
        logServiceConfiguration(configuration, options: options, log: log)
        let push: PushRuntime
        do {
            push = try PushRuntime.start(options: options.push, dataDirectory: options.dataDirectory, log: log)
        } catch {
            log.error("push_failed", "error=\"\(error)\"")
            try? store.close()
            return nil
        }
        let service = MessagingService(store: store, tokens: TokenAuthority(secret: secret), configuration: configuration,
                                       contentFilter: filter, offlinePush: push.gateway, log: log)
        return (store, service, push)
    }

    /// The content filter the options describe; logs and returns nil when a pattern is invalid.
    static func makeContentFilter(options: ServerOptions, log: ServerLog) -> (any ContentFilter)? {
        do {
            let keywords = try KeywordContentFilter(keywords: options.filterKeywords, patterns: options.filterPatterns)
            return keywords.isEmpty ? AcceptAllContentFilter() : keywords
        } catch {
            log.error("filter_failed", "error=\"\(error)\"")
            return nil
        }
    }

    static func logServiceConfiguration(_ configuration: ServiceConfiguration, options: ServerOptions, log: ServerLog) {
        log.info("service_configured", "send_rate=\"\(configuration.sendRate)\" message_bytes_max=\(configuration.messageBodySizeMax) pull_limit_max=\(configuration.pullLimitMax) content_filter=\(options.filterKeywords.count + options.filterPatterns.count)")
    }

    /// Creates the data directory and loads the token secret (SEQBOX_SECRET or DATA/secret);
    /// logs and returns nil on failure.
    static func loadSecret(options: ServerOptions, environment: [String: String], log: ServerLog) -> [UInt8]? {
        do {
            try createDirectory(options.dataDirectory)
            let loaded = try ServerSecret.load(dataDirectory: options.dataDirectory, environment: environment)
            log.info("secret_loaded", "source=\(loaded.source)")
            return loaded.secret
        } catch {
            log.error("secret_failed", "error=\"\(error)\"")
            return nil
        }
    }

    /// Opens (and recovers) the store under the data directory; logs and returns nil on failure.
    static func openStore(options: ServerOptions, log: ServerLog) -> MailboxStore? {
        var storeOptions = StoreOptions()
        storeOptions.durability = options.durability
        if let segmentBytes = options.segmentBytes { storeOptions.segmentBytes = segmentBytes }
        let store: MailboxStore
        do {
            store = try MailboxStore.open(directory: options.dataDirectory, options: storeOptions)
        } catch {
            log.error("store_open_failed", "directory=\(options.dataDirectory) error=\"\(error)\"")
            return nil
        }
        let report = store.recoveryReport
        log.log(report.isClean ? .info : .warning, "recovery", "clean=\(report.isClean) \(report)")
        return store
    }

    /// The access layer's settings from the options; the values HELLO_OK advertises agree with
    /// what the service enforces.
    static func accessConfiguration(options: ServerOptions, service: ServiceConfiguration, log: ServerLog) -> AccessConfiguration {
        var access = baseAccessConfiguration(options: options, log: log)
        if let inFlight = options.requestsInFlightMax { access.requestsInFlightMax = inFlight }
        access.frameLimits = FrameLimits(frameLengthMax: FrameLimits.clientFrames.frameLengthMax,
                                         messageBodySizeMax: service.messageBodySizeMax)
        access.sentFrameLengthMax = service.pullFrameLengthMax
        access.pullLimitMax = service.pullLimitMax
        access.shutdownReconnectAfterMs = service.shutdownReconnectAfterMs
        if let output = options.outputBufferBytesMax {
            access.outputBufferBytesMax = max(output, ProtocolConstants.lengthFieldSize + access.sentFrameLengthMax)
        }
        return access
    }

    /// The access-layer settings every role takes from the options as they are: address, event
    /// loops, connection bound, timeouts, and the log.
    static func baseAccessConfiguration(options: ServerOptions, log: ServerLog) -> AccessConfiguration {
        var access = AccessConfiguration()
        access.host = options.host
        access.port = options.port
        if let loops = options.eventLoops { access.eventLoopCount = loops }
        if let connections = options.connectionsMax { access.connectionsMax = connections }
        if let idle = options.idleTimeoutMs { access.idleTimeoutMs = idle }
        if let heartbeat = options.heartbeatIntervalMs { access.heartbeatIntervalMs = heartbeat }
        if let handshake = options.handshakeTimeoutMs { access.handshakeTimeoutMs = handshake }
        access.log = { line in log.info("access", "detail=\"\(line)\"") }
        return access
    }

    // MARK: Process plumbing

    static func shutdownSignals() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        return set
    }

    static func waitForSignal(_ set: inout sigset_t) -> Int32 {
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }

    static func signalName(_ number: Int32) -> String {
        switch number {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        default: "signal \(number)"
        }
    }

    /// Writes the port atomically (a temporary file renamed over `path`).
    static func writePortFile(_ path: String, port: UInt16) -> Bool {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        let text = Array("\(port)\n".utf8)
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return written == text.count && rename(temporary, path) == 0
    }

    /// `mkdir -p`.
    static func createDirectory(_ path: String) throws(SystemError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw SystemError(call: "mkdir", path: prefix, errno: Errno(rawValue: errno))
            }
        }
    }
}

extension AccessStatistics {
    /// A few counters as log fields.
    var logFields: String {
        "accepted=\(acceptedTotal) connections_refused=\(refusedTotal) closed_idle=\(closedIdleTotal) closed_slow=\(closedSlowConsumerTotal) closed_protocol=\(closedProtocolErrorTotal)"
    }
}
