#if canImport(Glibc)
import Glibc
#endif

/// Accepts client connections on loopback and serves each on its own detached thread, until
/// the run's duration is over.
struct ProxyServer {
    let options: ProxyOptions
    let stats = ProxyStats()

    /// Listens, announces the port, accepts until the end time; returns the exit status.
    func run() -> Int32 {
        guard let (listener, port) = ProxySocket.listen(host: options.listenHost, port: options.listenPort) else {
            printError("chaos-proxy: cannot listen on \(options.listenHost):\(options.listenPort): \(String(cString: strerror(errno)))")
            return 1
        }
        if let portFile = options.portFile { writePortFile(portFile, port: port) }
        printLine("chaos-proxy listening on \(options.listenHost):\(port) upstream \(options.upstreamHost):\(options.upstreamPort) seed \(options.seed)")
        let endsAt = ProxySocket.nowMs() + options.durationSeconds * 1000
        var index: UInt64 = 0
        while !ProxyServer.stopRequested() {
            let now = ProxySocket.nowMs()
            guard now < endsAt else { break }
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(clamping: min(endsAt - now, 1_000))) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            index += 1
            stats.add(.connections)
            var random = SplitMix64(seed: options.seed &+ index &* 0x9E37_79B9_7F4A_7C15)
            let plan = FaultPlan.draw(options: options, random: &random)
            let connection = ProxyConnection(client: client, options: options, plan: plan, stats: stats, endsAt: endsAt, random: random)
            startDetached(connection)
        }
        close(listener)
        printLine("chaos-proxy done: \(stats.summary)")
        return 0
    }

    /// SIGTERM or SIGINT arrived: stop accepting and print the summary.
    static func stopRequested() -> Bool { terminationSignal != 0 }

    private func writePortFile(_ path: String, port: UInt16) {
        let text = Array("\(port)\n".utf8)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return }
        _ = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }
}

/// Set by the SIGTERM/SIGINT handler; read by the accept loop (which the signal wakes from
/// `poll` with EINTR). A plain flag is the one thing a signal handler may safely touch.
nonisolated(unsafe) var terminationSignal: sig_atomic_t = 0

/// Installs the handler that ends the run early, still printing the fault summary.
func installTerminationHandler() {
    for signalNumber in [SIGTERM, SIGINT] {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { number in terminationSignal = number }
        sigemptyset(&action.sa_mask)
        sigaction(signalNumber, &action, nil)
    }
}

/// Runs a connection on a detached POSIX thread.
private func startDetached(_ connection: ProxyConnection) {
    final class Box {
        var connection: ProxyConnection
        init(_ connection: ProxyConnection) { self.connection = connection }
    }
    let box = Unmanaged.passRetained(Box(connection)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    pthread_attr_setstacksize(&attributes, 256 << 10)
    var thread = pthread_t()
    let result = pthread_create(&thread, &attributes, { context in
        let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
        box.connection.run()
        return nil
    }, box)
    pthread_attr_destroy(&attributes)
    if result != 0 {
        let box = Unmanaged<Box>.fromOpaque(box).takeRetainedValue()
        ProxySocket.reset(box.connection.client)
    }
}

/// Writes a line to standard error, unbuffered.
func printError(_ text: String) { writeLine(text, to: STDERR_FILENO) }

/// Writes a line to standard output, unbuffered (a reader waits for the "listening" line).
func printLine(_ text: String) { writeLine(text, to: STDOUT_FILENO) }

private func writeLine(_ text: String, to descriptor: Int32) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
}
