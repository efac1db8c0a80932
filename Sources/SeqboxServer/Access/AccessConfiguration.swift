import SeqboxProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Everything the access layer can be told: where to listen, how many loops, and a named bound
/// for every resource it holds (connections, buffers, queues, timers). The defaults suit a
/// production server on this kind of machine; tests shrink the timers.
///
/// Memory is bounded per connection by `frameLimits.frameLengthMax` (input: one partial frame)
/// plus `outputBufferBytesMax` (output), and in total by `connectionsMax` times that.
public struct AccessConfiguration: Sendable {
    // MARK: Listening

    /// Numeric IPv4 address to bind ("127.0.0.1": loopback only; "0.0.0.0": every interface).
    public var host = "127.0.0.1"
    /// TCP port; 0 binds an ephemeral port (read it from `AccessServer.boundAddress`).
    public var port: UInt16 = 0
    /// listen(2) backlog. The kernel caps it at `net.core.somaxconn` (4096 here); the listener
    /// accepts in a loop so the queue drains quickly.
    public var listenBacklog: Int32 = 4096
    /// Connections accepted per listener wake-up at most, so a connect storm cannot starve the
    /// other connections of the accepting loop. The rest wait in the backlog for the next turn.
    public var acceptsPerWakeupMax = 512

    // MARK: Threads

    /// Event loops (one pthread each). Default: one per online core.
    public var eventLoopCount = AccessConfiguration.onlineCoreCount

    // MARK: Connections

    /// Connections held at once (handshaking, open and closing). Beyond it new connections get
    /// ERROR(overloaded, closing) and are closed. `AccessServer.start()` lowers it to fit the
    /// open-files limit minus `fileDescriptorReserve`.
    public var connectionsMax = 19_000
    /// Descriptors kept free for everything but client sockets (store files, epoll, eventfds,
    /// the listener, logs) when fitting `connectionsMax` to the open-files limit.
    public var fileDescriptorReserve = 1_000
    /// Raise the soft `RLIMIT_NOFILE` to the hard limit at `start()`.
    public var raisesOpenFilesLimit = true

    // MARK: Frames and buffers

    /// What the decoder accepts from clients. Its `frameLengthMax` bounds a connection's input
    /// buffer (one partial frame); `messageBodySizeMax` is advertised in HELLO_OK.
    public var frameLimits = FrameLimits.clientFrames
    /// Largest frame the server sends, advertised in HELLO_OK as `frameLengthMax`.
    public var sentFrameLengthMax = ProtocolConstants.frameLengthMax
    /// Bytes queued for one client beyond which it is a slow consumer and is disconnected.
    /// Must hold at least one largest frame (`sentFrameLengthMax`).
    public var outputBufferBytesMax = 4 << 20
    /// A drained output buffer keeps at most this much capacity; larger ones are released so an
    /// idle connection stays small after a big PULL_OK.
    public var outputBufferRetainedBytesMax = 16 << 10
    /// Size of each loop's receive buffer (one per loop, shared by its connections).
    public var receiveChunkBytes = 64 << 10
    /// Bytes read from one connection per readiness event at most (fairness between
    /// connections of a loop; level-triggered epoll reports the rest next turn).
    public var receiveBytesPerWakeupMax = 256 << 10
    /// epoll events returned by one wait at most.
    public var epollEventsPerWaitMax = 1_024

    // MARK: Cross-thread queues

    /// Tasks (sends, closes, closures, new connections) waiting in one loop's inbox at most.
    /// When it is full a cross-thread `send` fails and its connection is closed with
    /// ERROR(overloaded): the loop is not keeping up.
    public var inboxTasksMax = 65_536
    /// Encoded bytes waiting in one loop's inbox at most (same consequence when exceeded).
    public var inboxBytesMax = 64 << 20

    // MARK: Protocol settings advertised in HELLO_OK (PROTOCOL.md §5.2, §6, §7)

    /// The client sends PING after this long without sending anything.
    public var heartbeatIntervalMs = ProtocolConstants.defaultHeartbeatIntervalMs
    /// A connection from which nothing arrived for this long is closed with ERROR(idleTimeout):
    /// this is what reaps half-open connections (the client pings; the server never does).
    public var idleTimeoutMs = ProtocolConstants.defaultIdleTimeoutMs
    /// A connection that has not been sent LOGIN_OK this long after connecting is closed.
    public var handshakeTimeoutMs = ProtocolConstants.handshakeTimeoutMs
    /// Requests a client may have unanswered; at the limit the connection stops reading until
    /// replies go out (replies are recognised by their non-zero request ID).
    public var requestsInFlightMax = ProtocolConstants.defaultRequestsInFlightMax
    /// Most records per PULL_OK, advertised in HELLO_OK (the service clamps PULLs to it).
    public var pullLimitMax = ProtocolConstants.defaultPullLimit

    // MARK: Timers and closing

    /// How often each loop checks timeouts. Timeouts fire up to one tick late.
    public var tickIntervalMs = 250
    /// A closing connection may take this long to flush its last frames (and then to see the
    /// peer's end of stream) before it is closed regardless.
    public var closeFlushTimeoutMs = 2_000
    /// At shutdown, connections get GOODBYE(serverShutdown) and this long to flush it.
    public var shutdownFlushTimeoutMs = 2_000
    /// Advertised in GOODBYE(serverShutdown): reconnect no sooner than this (plus jitter).
    public var shutdownReconnectAfterMs: UInt32 = 5_000
    /// Advertised in ERROR(overloaded) when a connection is refused or dropped for load.
    public var overloadedRetryAfterMs: UInt32 = 1_000

    /// Notable events (a paused listener, a full inbox), one line each; nil: silent.
    public var log: (@Sendable (String) -> Void)?

    public init() {}

    /// The online cores, from sysconf(3) `_SC_NPROCESSORS_ONLN` (at least 1).
    public static var onlineCoreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Stops the process on settings that cannot work together (programming errors).
    func validate() {
        precondition(eventLoopCount >= 1, "at least one event loop")
        precondition(connectionsMax >= 1, "at least one connection")
        precondition(listenBacklog >= 1 && acceptsPerWakeupMax >= 1, "listener bounds")
        precondition(sentFrameLengthMax <= ProtocolConstants.frameLengthMax, "sent frames above the protocol's limit")
        precondition(
            outputBufferBytesMax >= ProtocolConstants.lengthFieldSize + sentFrameLengthMax,
            "the output buffer must hold one largest frame")
        precondition(receiveChunkBytes >= 1 && receiveBytesPerWakeupMax >= receiveChunkBytes, "receive bounds")
        precondition(inboxTasksMax >= 1 && inboxBytesMax >= ProtocolConstants.frameLengthMax, "inbox bounds")
        precondition(idleTimeoutMs >= 1 && handshakeTimeoutMs >= 1 && tickIntervalMs >= 1, "timers")
        precondition(requestsInFlightMax >= 1 && requestsInFlightMax <= Int(UInt16.max), "requests in flight")
        precondition(pullLimitMax >= 1 && pullLimitMax <= ProtocolConstants.pullLimitMax, "pull limit")
        precondition(epollEventsPerWaitMax >= 1, "epoll events per wait")
    }
}
