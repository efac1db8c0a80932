import SeqboxProtocol

/// The protocol life of one connection as a pure value: no sockets, no clock (times come in as
/// milliseconds on a monotonic clock), no handler. `Connection` feeds it what happened and
/// performs the actions it returns, so the handshake, heartbeat, idle and back-pressure rules
/// are tested without the network (PROTOCOL.md §3 "Handshake", §7 "Heartbeats").
///
/// Phases: `awaitingHello` → (HELLO with a common version) → `open` → (any close) → `closing`
/// (flush the last frames, then wait for the peer's end of stream) → `closed`.
struct ConnectionStateMachine {
    /// Where the connection is in its life.
    enum Phase: Equatable {
        /// Connected; the first frame must be HELLO.
        case awaitingHello
        /// HELLO_OK sent: frames go to the service.
        case open
        /// Closing for `reason`: nothing more is read or accepted for sending; queued bytes are
        /// flushed until `closeDeadlineMs`. `flushed` once they are out and the write side is
        /// shut: the connection then waits for the peer's end of stream (so the peer reads our
        /// last frames instead of a reset).
        case closing(CloseReason, flushed: Bool)
        /// Gone.
        case closed(CloseReason)
    }

    /// What to do with a frame or a decoding failure.
    enum FrameAction: Equatable {
        /// Send HELLO_OK, then tell the service the connection is open.
        case open(Frame.HelloOK, requestID: UInt32)
        /// Send this frame (a PONG, or a non-closing ERROR) and carry on.
        case reply(Frame, requestID: UInt32)
        /// Hand the frame to the service.
        case deliver(DecodedFrame)
        /// Send this closing ERROR, then close with the reason.
        case fail(Frame.ErrorReport, requestID: UInt32, reason: CloseReason)
        /// Close without a word (the peer said GOODBYE).
        case close(CloseReason)
    }

    /// What a timer check found.
    enum TimerAction: Equatable {
        /// Send this closing ERROR, then close with the reason.
        case fail(Frame.ErrorReport, reason: CloseReason)
        /// The close deadline passed: close the socket now, queued bytes or not.
        case abort
    }

    let settings: ConnectionSettings
    private(set) var phase: Phase = .awaitingHello
    /// When the connection was accepted (the handshake timeout runs from here).
    let connectedAtMs: Int64
    /// When bytes last arrived (or reading last resumed): the idle timeout runs from here.
    private(set) var lastReceivedAtMs: Int64
    /// The service sent LOGIN_OK: the handshake timeout no longer applies.
    private(set) var loginCompleted = false
    /// Requests handed to the service and not yet answered.
    private(set) var requestsInFlight = 0
    /// A closing connection is closed regardless at this time.
    private(set) var closeDeadlineMs: Int64 = .max

    init(settings: ConnectionSettings, nowMs: Int64) {
        self.settings = settings
        self.connectedAtMs = nowMs
        self.lastReceivedAtMs = nowMs
    }

    /// True while frames are read and handed on (before any close).
    var isReading: Bool {
        switch phase {
        case .awaitingHello, .open: !isReadingPaused
        case .closing, .closed: false
        }
    }

    /// True when the client has `requestsInFlightMax` requests unanswered: the connection stops
    /// reading (TCP pushes back on the client) until replies go out.
    var isReadingPaused: Bool { requestsInFlight >= settings.requestsInFlightMax }

    /// True while the service may send.
    var acceptsSends: Bool { phase == .open }

    /// True once closing has begun.
    var isClosing: Bool {
        switch phase {
        case .closing, .closed: true
        case .awaitingHello, .open: false
        }
    }

    /// The reason of a closing or closed connection.
    var closeReason: CloseReason? {
        switch phase {
        case .closing(let reason, _), .closed(let reason): reason
        case .awaitingHello, .open: nil
        }
    }

    // MARK: Input

    /// Bytes arrived from the peer.
    mutating func bytesReceived(nowMs: Int64) {
        lastReceivedAtMs = max(lastReceivedAtMs, nowMs)
    }

    /// A whole frame arrived.
    mutating func frameReceived(_ decoded: DecodedFrame) -> FrameAction {
        precondition(isReading, "frame received while not reading")
        let requestID = decoded.requestID
        switch (phase, decoded.frame) {
        case (.awaitingHello, .hello(let hello)):
            guard let version = hello.negotiatedVersion else {
                let detail = "client speaks versions \(hello.versionMin)...\(hello.versionMax), "
                    + "server \(ProtocolConstants.protocolVersionMin)...\(ProtocolConstants.protocolVersion)"
                return .fail(
                    Frame.ErrorReport(code: .unsupportedVersion, closing: true, message: detail),
                    requestID: requestID, reason: .protocolError("unsupported version: \(detail)"))
            }
            phase = .open
            var helloOK = settings.helloOK
            helloOK.version = version
            return .open(helloOK, requestID: requestID)
        case (_, .goodbye):
            return .close(.peerClosed)
        case (.awaitingHello, let frame):
            return badFrame("the first frame must be HELLO, not \(frame.type)", requestID: requestID)
        case (_, .hello):
            return badFrame("a second HELLO", requestID: requestID)
        case (_, .ping(let ping)):
            return .reply(.pong(Frame.Pong(nonce: ping.nonce)), requestID: requestID)
        default:
            if requestID != 0 { requestsInFlight += 1 }
            return .deliver(decoded)
        }
    }

    /// The decoder rejected the bytes. Only an oversized SEND body keeps the connection
    /// (PROTOCOL.md §2): the frame was consumed whole and the stream goes on.
    mutating func decodeFailed(_ error: ProtocolError) -> FrameAction {
        precondition(isReading, "decode failure while not reading")
        if phase == .open, !error.isFramingLost, error.frameType == .send, case .payloadTooLarge = error.kind {
            let report = Frame.ErrorReport(code: .payloadTooLarge, closing: false, message: error.description)
            return .reply(.error(report), requestID: error.requestID)
        }
        let report = Frame.ErrorReport(code: error.errorCode, closing: true, message: error.description)
        return .fail(report, requestID: error.requestID, reason: .protocolError(error.description))
    }

    /// The service sent frames: `replies` answered requests (non-zero request IDs), `loginOK`
    /// tells whether one was LOGIN_OK. Reading resumes (and the idle clock restarts: the pause
    /// was the server's doing) when the requests in flight drop below the limit.
    mutating func serviceSent(replies: Int, loginOK: Bool, nowMs: Int64) {
        if loginOK { loginCompleted = true }
        guard replies > 0 else { return }
        let wasPaused = isReadingPaused
        requestsInFlight = max(0, requestsInFlight - replies)
        if wasPaused && !isReadingPaused { lastReceivedAtMs = max(lastReceivedAtMs, nowMs) }
    }

    /// What `serviceSent` needs to know about one outgoing frame.
    static func accounting(of frame: Frame, requestID: UInt32) -> (replies: Int, loginOK: Bool) {
        let isLoginOK = if case .loginOK = frame { true } else { false }
        return (requestID != 0 ? 1 : 0, isLoginOK)
    }

    // MARK: Timers

    /// Checks the handshake, idle and close deadlines.
    mutating func checkTimers(nowMs: Int64) -> TimerAction? {
        switch phase {
        case .awaitingHello, .open:
            if !loginCompleted && nowMs - connectedAtMs >= settings.handshakeTimeoutMs {
                let detail = "handshake not completed within \(settings.handshakeTimeoutMs) ms"
                return .fail(Frame.ErrorReport(code: .idleTimeout, closing: true, message: detail), reason: .idleTimeout)
            }
            // While reading is paused the idle clock keeps running from the last bytes read
            // (just before the pause): a service stalled longer than the idle timeout does not
            // pin connections forever.
            if nowMs - lastReceivedAtMs >= settings.idleTimeoutMs {
                let detail = "nothing received for \(settings.idleTimeoutMs) ms"
                return .fail(Frame.ErrorReport(code: .idleTimeout, closing: true, message: detail), reason: .idleTimeout)
            }
            return nil
        case .closing:
            return nowMs >= closeDeadlineMs ? .abort : nil
        case .closed:
            return nil
        }
    }

    // MARK: Closing

    /// Starts closing for `reason`; false if closing had begun already (the first reason wins).
    /// The connection has until `deadlineMs` (default: now + `closeFlushTimeoutMs`) to flush.
    mutating func beginClose(_ reason: CloseReason, nowMs: Int64, deadlineMs: Int64? = nil) -> Bool {
        guard !isClosing else { return false }
        phase = .closing(reason, flushed: false)
        closeDeadlineMs = deadlineMs ?? nowMs + settings.closeFlushTimeoutMs
        return true
    }

    /// The last bytes are out and the write side is shut; now waiting for the peer to close.
    mutating func flushCompleted() {
        guard case .closing(let reason, false) = phase else { return }
        phase = .closing(reason, flushed: true)
    }

    /// Moves the close deadline earlier (shutdown), never later.
    mutating func shortenCloseDeadline(to deadlineMs: Int64) {
        closeDeadlineMs = min(closeDeadlineMs, deadlineMs)
    }

    /// The socket is closed.
    mutating func closed() {
        phase = .closed(closeReason ?? .peerClosed)
    }

    /// The farewell frame the access layer itself sends when it closes for `reason`: the ERROR
    /// or GOODBYE the peer can still hear. The service sends its own before `closedByServer`;
    /// protocol errors carry theirs in `FrameAction.fail`; nothing reaches a peer that left.
    func farewell(for reason: CloseReason) -> Frame? {
        switch reason {
        case .serverShutdown: .goodbye(settings.shutdownGoodbye)
        case .slowConsumer:
            .error(Frame.ErrorReport(code: .slowConsumer, closing: true, message: "output buffer above \(settings.outputBufferBytesMax) bytes"))
        case .peerClosed, .idleTimeout, .protocolError, .closedByServer, .ioError: nil
        }
    }

    /// True when closing for `reason` drops queued output at once instead of flushing it: the
    /// peer does not read (slow consumer) or cannot (a socket error).
    static func abortsOutput(_ reason: CloseReason) -> Bool {
        switch reason {
        case .slowConsumer, .ioError: true
        case .peerClosed, .idleTimeout, .protocolError, .closedByServer, .serverShutdown: false
        }
    }

    private func badFrame(_ detail: String, requestID: UInt32) -> FrameAction {
        .fail(Frame.ErrorReport(code: .badFrame, closing: true, message: detail),
              requestID: requestID, reason: .protocolError(detail))
    }
}
