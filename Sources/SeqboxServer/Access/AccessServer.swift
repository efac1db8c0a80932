import SeqboxProtocol
import SeqboxSystem
import Synchronization

/// The access layer: a listening socket and `eventLoopCount` epoll event loops (one pthread
/// each) that hold client connections, run the HELLO handshake, answer PING, reap idle and
/// half-open connections, bound every buffer and queue, and hand every other frame to the
/// `FrameHandler` (the service) on the connection's loop thread.
///
/// Life: `init` → `start()` (binds, spawns the loops) → … → `beginShutdown()` (from anywhere,
/// including a SIGTERM handler) and `waitUntilStopped()`, or `stop()` for both. Shutdown stops
/// accepting, sends GOODBYE(serverShutdown) to every connection, gives them
/// `shutdownFlushTimeoutMs` to flush, closes them (the handler hears `connectionClosed` for each
/// opened one) and joins the threads.
///
/// Capacity: connections are plain state on their loop (no thread per connection); an idle one
/// costs under a kilobyte of user memory (see `AccessMemoryTests`). 10,000+ connections
/// need only `connectionsMax` and the open-files limit: `start()` raises the soft limit to the
/// hard one and fits `connectionsMax` under it.
public final class AccessServer: @unchecked Sendable {
    private enum Phase { case created, running, stopped }

    /// The configuration as given.
    public let configuration: AccessConfiguration
    private let handler: any FrameHandler
    private let phase = PthreadLocked(Phase.created)
    private let shutdownBegun = Atomic<Bool>(false)
    /// Serializes joining: a second `waitUntilStopped` waits for the first.
    private let joinLock = PthreadLocked(false)
    // Written once by `start()` before any other thread can see them, then read only.
    private var loops: [EventLoop] = []
    private var threads: [LoopThread] = []
    private var counters = AccessCounters(connectionsMax: 0)
    private var bound: IPv4SocketAddress?

    /// A server that will serve `handler` with `configuration`; nothing happens until `start()`.
    public init(configuration: AccessConfiguration, handler: any FrameHandler) {
        configuration.validate()
        self.configuration = configuration
        self.handler = handler
    }

    /// The address the listener is bound to (the real port when `port` was 0); nil before start.
    public var boundAddress: IPv4SocketAddress? { phase.withLock { _ in bound } }

    /// The bound port, 0 before start.
    public var boundPort: UInt16 { boundAddress?.port ?? 0 }

    /// `connectionsMax` as enforced: the configured value, lowered to fit the open-files limit.
    public var effectiveConnectionsMax: Int { phase.withLock { _ in counters.connectionsMax } }

    /// The counters now.
    public var statistics: AccessStatistics { phase.withLock { _ in counters }.snapshot() }

    /// Raises the open-files limit (if configured), binds the listener and starts the loops.
    /// Throws if the address cannot be bound or a loop cannot be created; then nothing runs.
    public func start() throws(SystemError) {
        try phase.withLock { (phase: inout Phase) throws(SystemError) in
            precondition(phase == .created, "AccessServer.start() may be called once, before stop()")
            try startLoops()
            phase = .running
        }
    }

    private func startLoops() throws(SystemError) {
        let connectionsMax = try fittedConnectionsMax()
        counters = AccessCounters(connectionsMax: connectionsMax)
        let address = try IPv4SocketAddress(host: configuration.host, port: configuration.port)
        let socket = try Socket.listening(on: address, backlog: configuration.listenBacklog)
        var created: [EventLoop] = []
        do {
            let settings = ConnectionSettings(configuration)
            for index in 0 ..< configuration.eventLoopCount {
                created.append(try EventLoop.make(
                    index: index, configuration: configuration, settings: settings, handler: handler, counters: counters))
            }
            let listener = Listener(socket: socket, address: try socket.localAddress(), loops: created,
                                    counters: counters, configuration: configuration)
            try listener.register(on: created[0])
            created[0].listener = listener
            bound = listener.address
            loops = created
            for loop in created {
                threads.append(try LoopThread.spawn { loop.run() })
            }
        } catch {
            // Loops already running exit on shutdown (loop 0 closing the listener); the others
            // never ran and release their descriptors (and the listener, if attached) here.
            let listenerAttached = created.first?.listener != nil
            for (index, loop) in created.enumerated() {
                if index < threads.count { loop.requestShutdown() } else { loop.releaseWithoutRunning() }
            }
            for thread in threads { thread.join() }
            if !listenerAttached { socket.close() }
            threads = []
            loops = []
            bound = nil
            throw error
        }
        configuration.log?("access: listening on \(bound!) with \(loops.count) loops, at most \(connectionsMax) connections")
    }

    /// `connectionsMax`, lowered so that connections plus `fileDescriptorReserve` fit the soft
    /// open-files limit (raised to the hard limit first when `raisesOpenFilesLimit`).
    private func fittedConnectionsMax() throws(SystemError) -> Int {
        let limit = configuration.raisesOpenFilesLimit
            ? try ResourceLimits.raiseOpenFilesToHardLimit()
            : try ResourceLimits.openFiles()
        let available = Int(clamping: limit.soft) - configuration.fileDescriptorReserve
        precondition(available >= 1, "open-files limit \(limit) leaves no room for connections")
        return min(configuration.connectionsMax, available)
    }

    /// Begins a graceful shutdown and returns at once: stop accepting, GOODBYE(serverShutdown)
    /// to every connection, flush, close, exit the loops. Idempotent. Async-signal-safe once
    /// `start()` has returned (atomic operations and write(2) to each loop's eventfd only), so a
    /// SIGTERM handler may call it; then call `waitUntilStopped()` from a normal thread.
    public func beginShutdown() {
        guard !shutdownBegun.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for loop in loops { loop.requestShutdown() }
    }

    /// Waits until every loop has exited (after `beginShutdown()`, or forever if nobody calls
    /// it). Returns at once if the server never started.
    public func waitUntilStopped() {
        joinLock.withLock { joined in
            guard !joined else { return }
            for thread in threads { thread.join() }
            joined = true
        }
        phase.withLock { $0 = .stopped }
    }

    /// `beginShutdown()` then `waitUntilStopped()`: every connection is closed and every thread
    /// joined when it returns.
    public func stop() {
        beginShutdown()
        waitUntilStopped()
    }
}
