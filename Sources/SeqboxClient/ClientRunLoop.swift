#if canImport(Glibc)
import Glibc
#endif
import SeqboxProtocol

/// The I/O thread of a `MailboxClient`: runs the `ClientCore` on a non-blocking socket with
/// `poll`, and applies its actions in the order that keeps the guarantees: events to the
/// application first, then the state saved, then frames on the wire.
struct ClientRunLoop {
    /// Bytes read from the socket per call.
    static let readChunkSize = 64 << 10
    /// Most bytes read in one loop turn, so timers run even under a flood of input.
    static let readBytesPerTurnMax = 1 << 20
    /// Longest poll wait when no timer is due (stop and app calls wake the thread anyway).
    static let pollWaitMaxMs: UInt64 = 60_000

    let client: MailboxClient
    private var socket: ClientSocket?
    private var connecting = false
    private var decoder = FrameDecoder(receiver: .client)
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var readBuffer = [UInt8](repeating: 0, count: ClientRunLoop.readChunkSize)

    init(client: MailboxClient) { self.client = client }

    /// Runs until the core stops.
    mutating func run() {
        while true {
            let now = ClientClock.monotonicMs()
            let turn = client.withCore { core in
                core.tick(now: now)
                let actions = core.takeActions()
                let snapshot = core.stateDirty ? core.state : nil
                if snapshot != nil { core.markSaved() }
                return (actions, snapshot, core.nextDeadline(), core.phase == .stopped)
            }
            guard apply(turn.0, snapshot: turn.1) else { continue }
            if turn.3 {
                closeSocket()
                return
            }
            waitAndHandleInput(deadline: turn.2)
        }
    }

    /// Applies one turn's actions; false when saving failed (the core was stopped instead).
    private mutating func apply(_ actions: [ClientAction], snapshot: ClientState?) -> Bool {
        for action in actions {
            switch action {
            case .emit(let event): client.deliver(event)
            case .historyResult(let id, let result): client.completeHistory(id: id, result)
            case .connect, .write, .close: break
            }
        }
        if let snapshot {
            do {
                try client.save(snapshot)
            } catch {
                closeSocket()
                client.withCore { $0.stop(now: ClientClock.monotonicMs(), reason: .stateNotSaved(error)) }
                return false
            }
        }
        for action in actions {
            switch action {
            case .connect: openSocket()
            case .write(let frame, let requestID):
                if socket != nil, !connecting { FrameEncoder.encode(frame, requestID: requestID, into: &output) }
            case .close:
                flushOutput()
                closeSocket()
            case .emit, .historyResult: break
            }
        }
        flushOutput()
        return true
    }

    private mutating func openSocket() {
        closeSocket()
        switch ClientSocket.connect(host: client.configuration.host, port: client.configuration.port) {
        case .success(let opened):
            socket = opened
            connecting = true
        case .failure(let failure):
            client.withCore { $0.connectFailed(.connectFailed(errno: failure.errno), now: ClientClock.monotonicMs()) }
        }
    }

    private mutating func closeSocket() {
        socket?.close()
        socket = nil
        connecting = false
        decoder = FrameDecoder(receiver: .client)
        output.removeAll(keepingCapacity: false)
        outputOffset = 0
    }

    /// Writes as much buffered output as the socket takes now; a failure is left for the read
    /// side to report (the socket then polls as broken).
    private mutating func flushOutput() {
        guard let socket, !connecting, outputOffset < output.count else { return }
        while outputOffset < output.count {
            let outcome = output.withUnsafeBytes { socket.write(UnsafeRawBufferPointer(rebasing: $0[outputOffset...])) }
            switch outcome {
            case .bytes(let count): outputOffset += count
            case .wouldBlock: return
            case .failed(let code):
                lose(.connectionLost(errno: code))
                return
            }
        }
        output.removeAll(keepingCapacity: output.capacity <= ClientRunLoop.readChunkSize)
        outputOffset = 0
    }

    /// Waits in poll until input, writability, a wake-up or the next deadline.
    private mutating func waitAndHandleInput(deadline: UInt64?) {
        let now = ClientClock.monotonicMs()
        let waitMs = deadline.map { $0 > now ? min($0 - now, ClientRunLoop.pollWaitMaxMs) : 0 } ?? ClientRunLoop.pollWaitMaxMs
        var descriptors = [pollfd(fd: client.wakeFileDescriptor, events: Int16(POLLIN), revents: 0)]
        if let socket {
            var events = Int16(POLLIN)
            if connecting || outputOffset < output.count { events = connecting ? Int16(POLLOUT) : events | Int16(POLLOUT) }
            descriptors.append(pollfd(fd: socket.descriptor, events: events, revents: 0))
        }
        let ready = poll(&descriptors, nfds_t(descriptors.count), Int32(waitMs))
        guard ready > 0 else { return }
        if descriptors[0].revents != 0 { drainWakeups() }
        guard descriptors.count > 1, socket != nil else { return }
        let revents = descriptors[1].revents
        if connecting {
            guard revents != 0 else { return }
            finishConnect()
            return
        }
        if revents & Int16(POLLOUT) != 0 { flushOutput() }
        if revents & (Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR)) != 0 { readInput() }
    }

    private mutating func finishConnect() {
        guard let socket else { return }
        let code = socket.connectOutcome()
        let now = ClientClock.monotonicMs()
        if code == 0 {
            connecting = false
            client.withCore { $0.connected(now: now) }
        } else {
            closeSocket()
            client.withCore { $0.connectFailed(.connectFailed(errno: code), now: now) }
        }
    }

    /// Reads what the socket has, decodes whole frames and feeds them to the core in one lock.
    private mutating func readInput() {
        guard let socket else { return }
        var frames: [DecodedFrame] = []
        var failure: ProtocolError?
        var ended: DisconnectReason?
        var total = 0
        reading: while total < ClientRunLoop.readBytesPerTurnMax {
            let outcome = readBuffer.withUnsafeMutableBytes { socket.read(into: $0) }
            switch outcome {
            case .bytes(let count):
                total += count
                readBuffer.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0[0 ..< count])) }
                do {
                    while let frame = try decoder.next() { frames.append(frame) }
                } catch {
                    failure = error
                    break reading
                }
            case .wouldBlock: break reading
            case .closed:
                ended = .connectionLost(errno: 0)
                break reading
            case .failed(let code):
                ended = .connectionLost(errno: code)
                break reading
            }
        }
        let now = ClientClock.monotonicMs()
        client.withCore { core in
            for frame in frames {
                guard core.connection != nil else { break }
                core.received(frame, now: now)
            }
            if let failure { core.malformedInput(failure, now: now) }
            if let ended { core.connectionLost(ended, now: now) }
        }
    }

    private mutating func lose(_ reason: DisconnectReason) {
        client.withCore { $0.connectionLost(reason, now: ClientClock.monotonicMs()) }
    }

    private func drainWakeups() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { read(client.wakeFileDescriptor, $0.baseAddress, 8) }
    }
}
