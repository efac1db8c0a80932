import SeqboxProtocol
import SeqboxSystem
import Synchronization

/// One client connection: its socket, decoder, output buffer and protocol state, owned by one
/// event loop. It is the `ConnectionHandle` the service sees.
///
/// Threading: everything but `id`, `loop`, `socket` and the atomic `sendsAccepted` is touched
/// only on the owning loop's thread. Calls from other threads (`send`, `close`, `execute`) are
/// encoded on the caller's thread and queued to the loop's inbox, hence `@unchecked Sendable`.
///
/// Writing: frames are appended to the output buffer and the connection is scheduled; the loop
/// flushes every scheduled connection at the end of its turn (one send(2) for all the frames of
/// a turn), and registers `EPOLLOUT` only when the socket would block. The buffer is bounded by
/// `outputBufferBytesMax`: a frame that does not fit, even after an immediate flush attempt,
/// closes the connection as a slow consumer.
///
/// Files: this one holds the state and the `ConnectionHandle` side (sending); reading and
/// frame handling are in `Connection+Reading.swift`, closing and writing in
/// `Connection+Closing.swift`. A `send` or `execute` after the server stopped is dropped (`send`
/// returns false).
final class Connection: ConnectionHandle, @unchecked Sendable {
    let id: ConnectionID
    let socket: Socket
    let loop: EventLoop
    /// The epoll data word of this connection: `tag << 32 | fd`, so an event for a closed
    /// connection whose descriptor number was reused is recognised as stale.
    let epollData: UInt64

    /// False before HELLO_OK and from the start of closing: sends from any thread fail.
    let sendsAccepted = Atomic<Bool>(false)
    /// Set once when a cross-thread call found the inbox full; the loop then closes it.
    let overloadFlagged = Atomic<Bool>(false)

    // Loop-confined state.
    var machine: ConnectionStateMachine
    var decoder: FrameDecoder
    var output: OutputBuffer
    /// The events registered in epoll now.
    var registeredEvents: EpollEvents
    /// The last send(2) could not take everything: wait for `EPOLLOUT` before writing again.
    var waitingForWritable = false
    /// In the loop's list of connections to service at the end of the turn.
    var isScheduled = false
    /// The service was told `connectionOpened` (so it must be told `connectionClosed`).
    var serviceKnowsConnection = false
    var serviceToldClosed = false
    /// Reading was paused (requests in flight at the limit) and must resume at the next step.
    var resumePending = false
    /// The peer's end of stream (or an error) was seen while closing: nothing left to wait for.
    var peerFinished = false
    /// The socket is closed and the loop has forgotten the connection.
    var isTornDown = false

    init(id: ConnectionID, socket: Socket, loop: EventLoop, tag: UInt32, nowMs: Int64) {
        self.id = id
        self.socket = socket
        self.loop = loop
        self.epollData = UInt64(tag) << 32 | UInt64(UInt32(bitPattern: socket.rawValue))
        let settings = loop.settings
        self.machine = ConnectionStateMachine(settings: settings, nowMs: nowMs)
        self.decoder = FrameDecoder(receiver: .server, limits: settings.frameLimits)
        self.output = OutputBuffer(retainedCapacityMax: settings.outputBufferRetainedBytesMax)
        self.registeredEvents = Connection.readEvents
    }

    /// What a reading connection registers.
    static let readEvents: EpollEvents = [.readable, .peerClosedWriting]

    // MARK: ConnectionHandle

    var isOnLoop: Bool { loop.isCurrentThread }

    @discardableResult
    func send(_ frame: Frame, requestID: UInt32) -> Bool {
        if isOnLoop { return sendOnLoop(frame, requestID: requestID) }
        guard sendsAccepted.load(ordering: .acquiring) else { return false }
        var encoded = EncodedFrames(bytes: [], replies: 0, loginOK: false)
        encoded.bytes.reserveCapacity(FrameEncoder.encodedSize(of: frame))
        Connection.encode(frame, requestID: requestID, into: &encoded)
        return enqueueFromOtherThread(encoded)
    }

    @discardableResult
    func send(_ frames: [(frame: Frame, requestID: UInt32)]) -> Bool {
        if isOnLoop { return sendOnLoop(frames) }
        guard sendsAccepted.load(ordering: .acquiring) else { return false }
        var encoded = EncodedFrames(bytes: [], replies: 0, loginOK: false)
        encoded.bytes.reserveCapacity(frames.reduce(0) { $0 + FrameEncoder.encodedSize(of: $1.frame) })
        for (frame, requestID) in frames { Connection.encode(frame, requestID: requestID, into: &encoded) }
        return enqueueFromOtherThread(encoded)
    }

    func close(reason: CloseReason) {
        if isOnLoop {
            beginClose(reason)
            return
        }
        switch loop.inbox.enqueue(.close(self, reason)) {
        case .accepted, .closed: break
        case .full: loop.flagOverloaded(self, reason: reason)
        }
    }

    func execute(_ body: @escaping @Sendable () -> Void) {
        if isOnLoop {
            body()
            return
        }
        switch loop.inbox.enqueue(.run(body)) {
        case .accepted, .closed: break
        case .full: loop.flagOverloaded(self, reason: nil)
        }
    }

    static func encode(_ frame: Frame, requestID: UInt32, into encoded: inout EncodedFrames) {
        FrameEncoder.encode(frame, requestID: requestID, into: &encoded.bytes)
        let accounting = ConnectionStateMachine.accounting(of: frame, requestID: requestID)
        encoded.replies += accounting.replies
        encoded.loginOK = encoded.loginOK || accounting.loginOK
    }

    func enqueueFromOtherThread(_ encoded: EncodedFrames) -> Bool {
        // After one refused call nothing more is queued: no later frame overtakes a lost one.
        guard !overloadFlagged.load(ordering: .acquiring) else { return false }
        switch loop.inbox.enqueue(.write(self, encoded), byteCount: encoded.bytes.count) {
        case .accepted: return true
        case .closed: return false
        case .full:
            loop.flagOverloaded(self, reason: nil)
            return false
        }
    }

    // MARK: Sending on the loop

    func sendOnLoop(_ frame: Frame, requestID: UInt32) -> Bool {
        guard machine.acceptsSends, makeRoom(for: FrameEncoder.encodedSize(of: frame)) else { return false }
        output.append(frame, requestID: requestID)
        let accounting = ConnectionStateMachine.accounting(of: frame, requestID: requestID)
        noteServiceSent(replies: accounting.replies, loginOK: accounting.loginOK)
        return true
    }

    func sendOnLoop(_ frames: [(frame: Frame, requestID: UInt32)]) -> Bool {
        let size = frames.reduce(0) { $0 + FrameEncoder.encodedSize(of: $1.frame) }
        guard machine.acceptsSends, makeRoom(for: size) else { return false }
        var replies = 0
        var loginOK = false
        for (frame, requestID) in frames {
            output.append(frame, requestID: requestID)
            let accounting = ConnectionStateMachine.accounting(of: frame, requestID: requestID)
            replies += accounting.replies
            loginOK = loginOK || accounting.loginOK
        }
        noteServiceSent(replies: replies, loginOK: loginOK)
        return true
    }

    /// Appends frames encoded on another thread (drained from the inbox). Dropped if the
    /// connection began closing meanwhile.
    func appendEncoded(_ encoded: EncodedFrames) {
        guard machine.acceptsSends, makeRoom(for: encoded.bytes.count) else { return }
        output.append(encoded: encoded.bytes)
        noteServiceSent(replies: encoded.replies, loginOK: encoded.loginOK)
    }

    func noteServiceSent(replies: Int, loginOK: Bool) {
        let wasPaused = machine.isReadingPaused
        machine.serviceSent(replies: replies, loginOK: loginOK, nowMs: loop.nowMs)
        if wasPaused && !machine.isReadingPaused { resumePending = true }
        loop.schedule(self)
    }

    /// Appends a frame of the access layer's own (HELLO_OK, PONG, a non-closing ERROR).
    func sendControl(_ frame: Frame, requestID: UInt32) {
        guard makeRoom(for: FrameEncoder.encodedSize(of: frame)) else { return }
        output.append(frame, requestID: requestID)
        loop.schedule(self)
    }

    /// True if `size` more bytes fit under `outputBufferBytesMax`, flushing first when they
    /// would not. False after closing the connection as a slow consumer.
    func makeRoom(for size: Int) -> Bool {
        let limit = machine.settings.outputBufferBytesMax
        if output.pendingByteCount + size <= limit { return true }
        if !waitingForWritable, case .failed(let error) = flush() {
            beginClose(.ioError(error.description))
            return false
        }
        if output.pendingByteCount + size <= limit { return true }
        beginClose(.slowConsumer)
        return false
    }

    // MARK: Accounting

    /// Bytes this connection's buffers hold (decoder and output), for memory checks.
    var bufferedBytes: Int { decoder.bufferCapacity + output.capacity }
    /// Bytes queued for the peer.
    var outputPendingByteCount: Int { output.pendingByteCount }
}
