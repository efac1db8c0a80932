import SeqboxProtocol
import SeqboxSystem

/// One TCP connection of a `StorageNodeClient` to its storage node: socket, decoder, output
/// bytes, the requests in flight by request ID, and where it is in its life. Plain state,
/// touched only on the client's I/O thread.
///
/// Life: `idle` (no socket; reconnect at `retryAtMs`) → `connecting` (non-blocking connect in
/// progress) → `handshaking` (HELLO and LOGIN sent, pipelined) → `ready` (requests flow) → any
/// failure closes the socket, answers every request in flight `unavailable` and goes back to
/// `idle` with a capped exponential backoff.
final class StorageConnection {
    enum Phase: Equatable {
        case idle(retryAtMs: Int64)
        case connecting(deadlineMs: Int64)
        case handshaking(deadlineMs: Int64)
        case ready
    }

    /// What a request ID in flight stands for.
    enum InFlight {
        /// HELLO or LOGIN.
        case handshake
        /// A heartbeat.
        case ping
        /// One request frame.
        case request(StorageCall)
        /// A STORE_APPEND: its groups' calls, in frame order.
        case appends([StorageCall])
    }

    /// The connection's number within its client (logs, epoll data).
    let index: Int
    var phase: Phase = .idle(retryAtMs: 0)
    var socket: Socket?
    /// Bumped at every new socket: epoll events of an older socket are recognised and ignored.
    var generation: UInt32 = 0
    var decoder = FrameDecoder(receiver: .client, limits: .protocolMaximum)
    var output: [UInt8] = []
    /// Bytes of `output` before this index are written.
    var outputOffset = 0
    var registeredEvents: EpollEvents = []
    var inFlight: [UInt32: InFlight] = [:]
    /// Calls sent on this connection in send order (so in deadline order): timeouts are found
    /// at the front. Answered calls leave when they reach the front.
    var sent = RequestQueue<StorageCall>()
    private var nextRequestID: UInt32 = 1
    /// The node's `requestsInFlightMax` (HELLO_OK).
    var requestsInFlightMax = 1
    /// PING after this long without sending (from the configuration and the node's idle timeout).
    var heartbeatIntervalMs: Int64 = 5_000
    var lastSentMs: Int64 = 0
    var lastReceivedMs: Int64 = 0
    /// A request on this connection timed out and nothing arrived since: if nothing arrives for
    /// a whole request timeout, the node is taken as hung and the connection is replaced.
    var timedOutSinceLastReceive = false
    /// Failed connects or lost connections since the last successful handshake.
    var failedAttempts = 0
    /// The node's HELLO_OK on this connection.
    var helloOK: Frame.HelloOK?

    init(index: Int) {
        self.index = index
    }

    var isReady: Bool { phase == .ready }

    /// The epoll data word of the current socket: generation and index.
    var epollData: UInt64 { UInt64(generation) << 32 | UInt64(UInt32(index)) }

    /// Bytes queued and not yet written.
    var pendingOutputCount: Int { output.count - outputOffset }

    /// A fresh request ID: non-zero, not in flight (a counter that skips 0 when it wraps).
    func takeRequestID() -> UInt32 {
        while true {
            let id = nextRequestID
            nextRequestID = nextRequestID == .max ? 1 : nextRequestID + 1
            if inFlight[id] == nil { return id }
        }
    }

    /// Encodes `frame` at the end of the output.
    func write(_ frame: Frame, requestID: UInt32, nowMs: Int64) {
        if outputOffset > 0 && outputOffset >= pendingOutputCount {
            output.removeSubrange(0 ..< outputOffset)
            outputOffset = 0
        }
        FrameEncoder.encode(frame, requestID: requestID, into: &output)
        lastSentMs = nowMs
    }

    /// Forgets the socket's stream state (after closing it).
    func resetStream() {
        socket = nil
        generation &+= 1
        decoder = FrameDecoder(receiver: .client, limits: .protocolMaximum)
        output = []
        outputOffset = 0
        registeredEvents = []
        helloOK = nil
        timedOutSinceLastReceive = false
    }
}
