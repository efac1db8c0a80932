import SeqboxProtocol
import SeqboxSystem
import Synchronization

/// A gateway's client of one storage node (PROTOCOL.md §14): a fixed number of TCP connections
/// driven by one I/O thread (epoll, non-blocking sockets), with requests pipelined and batched.
///
/// Callers on any thread hand it requests (`append`, `request`); they wait in a bounded queue
/// (full: `overloaded` at once). Each turn the I/O thread takes everything queued and writes it
/// in as few frames as possible: every append group queued packs into one STORE_APPEND (up to
/// `storeAppendGroupsMax` groups and the frame limit), each other request is one frame, and each
/// connection's output goes out in one send(2). Answers are matched by request ID, possibly out
/// of order; completions run on the I/O thread and must not block.
///
/// Bounds: requests in flight per connection ≤ the node's advertised `requestsInFlightMax`,
/// queued requests ≤ `queuedRequestsMax`, output per connection ≤ `outputBufferBytesMax` (plus
/// one frame). Time: every request answers within `requestTimeoutMs` (`unavailable` if the node
/// did not; an append may still have been applied, and the client's retry with the same client
/// message ID finds it as a duplicate).
///
/// Failure: a lost connection answers its requests in flight `unavailable` and reconnects with
/// capped exponential backoff (with jitter). While no connection is up after a failure, the node
/// counts as down and new requests answer `unavailable` at once, on the caller's thread, instead
/// of waiting for the timeout; the first successful handshake brings it back.
public final class StorageNodeClient: @unchecked Sendable {
    /// The node this client talks to.
    public let endpoint: StorageEndpoint
    /// The client's position in the gateway's node list (logs).
    public let nodeIndex: Int
    let configuration: StorageClientConfiguration
    let tokens: TokenAuthority
    let log: ServerLog
    let address: IPv4SocketAddress

    // Cross-thread state.
    private let queue = PthreadLocked(Inbox())
    /// Requests queued or waiting for a connection (not yet sent).
    let pendingCount = Atomic<Int>(0)
    /// Message body bytes those requests hold.
    let pendingBytes = Atomic<Int>(0)
    /// True while no connection is up after a failure: requests fail fast.
    let nodeDown = Atomic<Bool>(false)
    let stopRequested = Atomic<Bool>(false)
    let counters = StorageClientCounters()
    private let wakeup: EventFD
    let epoll: Epoll
    private var thread: LoopThread?

    // I/O-thread state.
    var connections: [StorageConnection]
    /// Requests taken from the queue and not yet sent, in arrival order.
    var waiting = RequestQueue<StorageCall>()
    let receiveBuffer: UnsafeMutableRawBufferPointer
    let events = EpollEventBuffer(capacity: 64)
    var random = SystemRandomNumberGenerator()

    /// epoll data word of the wake-up eventfd (connection words hold an index below 2^32 - 1).
    static let wakeupData = UInt64(UInt32.max)
    /// Bytes read per recv(2).
    static let receiveChunkBytes = 256 << 10
    /// Longest epoll wait when nothing is due.
    static let idleWaitMs: Int64 = 1_000

    private struct Inbox {
        var calls: [StorageCall] = []
        var isClosed = false
    }

    /// A client (not yet running) of the node at `endpoint`; `tokens` mints the service token
    /// LOGIN carries (the cluster's shared secret).
    public init(endpoint: StorageEndpoint, nodeIndex: Int, configuration: StorageClientConfiguration,
                tokens: TokenAuthority, log: ServerLog = .silent) throws(SystemError) {
        configuration.validate()
        self.endpoint = endpoint
        self.nodeIndex = nodeIndex
        self.configuration = configuration
        self.tokens = tokens
        self.log = log
        self.address = try IPv4SocketAddress(host: endpoint.host, port: endpoint.port)
        let epoll = try Epoll.create()
        do {
            wakeup = try EventFD.create()
            try epoll.add(wakeup.rawValue, events: .readable, data: StorageNodeClient.wakeupData)
        } catch {
            epoll.close()
            throw error
        }
        self.epoll = epoll
        self.connections = (0 ..< configuration.connections).map { StorageConnection(index: $0) }
        self.receiveBuffer = .allocate(byteCount: StorageNodeClient.receiveChunkBytes, alignment: 16)
    }

    deinit {
        receiveBuffer.deallocate()
    }

    /// Starts the I/O thread; connecting begins at once.
    public func start() throws(SystemError) {
        precondition(thread == nil, "StorageNodeClient.start() may be called once")
        thread = try LoopThread.spawn { [self] in run() }
    }

    /// Stops: every request queued or in flight answers `unavailable`, the connections close and
    /// the I/O thread ends. Later requests answer `unavailable` at once.
    public func stop() {
        guard !stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wakeup.signal()
        thread?.join()
        thread = nil
        if !queue.withLock({ $0.isClosed }) {
            // Never started: close the queue here.
            for call in closeQueue() { call.fail(unavailable("gateway stopping")) }
        }
        epoll.close()
        wakeup.close()
    }

    /// True while the node counts as down (no connection up after a failure).
    public var isDown: Bool { nodeDown.load(ordering: .relaxed) }

    /// Counters since start.
    public var statistics: StorageClientStatistics { counters.snapshot() }

    // MARK: Requests (any thread)

    /// Appends one group atomically on the node; answers one copy per message, in order.
    public func append(_ group: StoreAppendGroup, completion: @escaping @Sendable (Result<[StoreCopy], Frame.ErrorReport>) -> Void) {
        submit(StorageCall(payload: .append(group), completion: .append(completion), deadlineMs: deadline()))
    }

    /// Sends one request frame (STORE_PULL, STORE_ACK, …) and answers with the node's reply; an
    /// ERROR reply is a failure.
    public func request(_ frame: Frame, completion: @escaping @Sendable (Result<Frame, Frame.ErrorReport>) -> Void) {
        submit(StorageCall(payload: .request(frame), completion: .request(completion), deadlineMs: deadline()))
    }

    private func deadline() -> Int64 { MonotonicClock.nowMs() + Int64(configuration.requestTimeoutMs) }

    private func submit(_ call: StorageCall) {
        if nodeDown.load(ordering: .relaxed) {
            counters.failedFast.add(1, ordering: .relaxed)
            return call.fail(unavailable("storage node \(endpoint) is down"))
        }
        let count = pendingCount.add(1, ordering: .relaxed).newValue
        let bytes = pendingBytes.add(call.bodyBytes, ordering: .relaxed).newValue
        // One request is always admitted when none waits, however large (it fits a frame).
        guard count <= configuration.queuedRequestsMax, bytes <= configuration.queuedBytesMax || count == 1 else {
            released(call)
            counters.overloaded.add(1, ordering: .relaxed)
            return call.fail(Frame.ErrorReport(code: .overloaded, retryAfterMs: configuration.retryAfterMs,
                                               message: "too many requests queued for storage node \(endpoint)"))
        }
        let accepted = queue.withLock { inbox in
            guard !inbox.isClosed else { return false }
            if inbox.calls.isEmpty { wakeup.signal() }
            inbox.calls.append(call)
            return true
        }
        if !accepted {
            released(call)
            call.fail(unavailable("gateway stopping"))
        }
    }

    /// `call` left the queue (sent, answered or failed): it no longer counts against the bounds.
    func released(_ call: StorageCall) {
        pendingCount.subtract(1, ordering: .relaxed)
        pendingBytes.subtract(call.bodyBytes, ordering: .relaxed)
    }

    // MARK: For the I/O thread

    /// Moves everything queued to `waiting`.
    func takeQueued() {
        let taken = queue.withLock { inbox in
            let calls = inbox.calls
            inbox.calls = []
            return calls
        }
        for call in taken { waiting.append(call) }
    }

    /// Closes the queue for good and returns what was still in it.
    func closeQueue() -> [StorageCall] {
        queue.withLock { inbox in
            inbox.isClosed = true
            let calls = inbox.calls
            inbox.calls = []
            return calls
        }
    }

    /// Clears the wake-up signal.
    func drainWakeup() { wakeup.drain() }

    /// An `unavailable` error naming this node.
    func unavailable(_ detail: String) -> Frame.ErrorReport {
        Frame.ErrorReport(code: .unavailable, retryAfterMs: configuration.retryAfterMs, message: detail)
    }
}

/// What a `StorageNodeClient` did, for logs and benchmarks.
public struct StorageClientStatistics: Sendable, Equatable {
    /// Request frames written (a STORE_APPEND counts once).
    public var framesSent: Int
    /// Append groups written (inside STORE_APPEND frames).
    public var appendGroupsSent: Int
    /// Requests answered `unavailable` because they timed out.
    public var timedOut: Int
    /// Requests answered `unavailable` at once because the node was down.
    public var failedFast: Int
    /// Requests answered `overloaded` because the queue was full.
    public var overloaded: Int
    /// Successful handshakes (the first connect and every reconnect).
    public var handshakes: Int
    /// Connections lost or connect attempts failed.
    public var connectionFailures: Int

    /// The figures of several clients added up.
    public static func total(_ clients: [StorageClientStatistics]) -> StorageClientStatistics {
        clients.reduce(StorageClientStatistics(framesSent: 0, appendGroupsSent: 0, timedOut: 0, failedFast: 0, overloaded: 0,
                                               handshakes: 0, connectionFailures: 0)) { sum, next in
            StorageClientStatistics(framesSent: sum.framesSent + next.framesSent, appendGroupsSent: sum.appendGroupsSent + next.appendGroupsSent,
                                    timedOut: sum.timedOut + next.timedOut, failedFast: sum.failedFast + next.failedFast,
                                    overloaded: sum.overloaded + next.overloaded, handshakes: sum.handshakes + next.handshakes,
                                    connectionFailures: sum.connectionFailures + next.connectionFailures)
        }
    }

    /// As log fields (handshakes beyond one per node are reconnects).
    var logFields: String {
        "frames_sent=\(framesSent) append_groups_sent=\(appendGroupsSent) timed_out=\(timedOut) failed_fast=\(failedFast) "
            + "overloaded=\(overloaded) handshakes=\(handshakes) connection_failures=\(connectionFailures)"
    }
}

/// The atomic counters behind `StorageClientStatistics`.
final class StorageClientCounters: Sendable {
    let framesSent = Atomic<Int>(0)
    let appendGroupsSent = Atomic<Int>(0)
    let timedOut = Atomic<Int>(0)
    let failedFast = Atomic<Int>(0)
    let overloaded = Atomic<Int>(0)
    let handshakes = Atomic<Int>(0)
    let connectionFailures = Atomic<Int>(0)

    func snapshot() -> StorageClientStatistics {
        StorageClientStatistics(framesSent: framesSent.load(ordering: .relaxed), appendGroupsSent: appendGroupsSent.load(ordering: .relaxed),
                                timedOut: timedOut.load(ordering: .relaxed), failedFast: failedFast.load(ordering: .relaxed),
                                overloaded: overloaded.load(ordering: .relaxed), handshakes: handshakes.load(ordering: .relaxed),
                                connectionFailures: connectionFailures.load(ordering: .relaxed))
    }
}
