import SeqboxProtocol
import SeqboxSystem

/// Reading: epoll readiness, receiving into the loop's buffer, decoding, acting on frames, timers.
extension Connection {
    // MARK: Events

    /// Handles epoll readiness for this connection.
    func handleEvents(_ events: EpollEvents) {
        guard !isTornDown else { return }
        if events.contains(.error) {
            let detail = (try? socket.pendingError())?.map { "\($0)" } ?? "socket error"
            peerFinished = true
            beginClose(.ioError(detail), abort: true)
            return
        }
        if machine.isClosing {
            if events.contains(.writable) { waitingForWritable = false }
            if events.contains(.hangUp) { peerFinished = true }
            if case .closing(_, flushed: true) = machine.phase { discardInput() }
            loop.schedule(self)
            return
        }
        if events.contains(.hangUp) {
            peerFinished = true
            beginClose(.peerClosed, abort: true)
            return
        }
        if events.contains(.writable) {
            waitingForWritable = false
            loop.schedule(self)
        }
        if !events.isDisjoint(with: [.readable, .peerClosedWriting]) {
            receive()
            // Reading may have paused or stopped: the step updates the epoll interest so a
            // level-triggered EPOLLIN that is no longer wanted does not spin the loop.
            loop.schedule(self)
        }
    }

    /// Reads what the socket holds (up to the per-wake-up budget) and handles the frames.
    func receive() {
        var budget = loop.configuration.receiveBytesPerWakeupMax
        let buffer = loop.receiveBuffer
        while budget > 0 && machine.isReading {
            let result: Socket.ReceiveResult
            do {
                result = try socket.receive(into: buffer)
            } catch {
                peerFinished = true
                beginClose(.ioError(error.description), abort: true)
                return
            }
            switch result {
            case .wouldBlock:
                return
            case .endOfStream:
                // Flush what is queued (replies to the last frames), then close.
                beginClose(.peerClosed)
                return
            case .received(let count):
                machine.bytesReceived(nowMs: loop.nowMs)
                decoder.append(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                budget -= count
                handleBufferedFrames()
                if count < buffer.count { return }
            }
        }
    }

    /// Reads and drops what a closing peer still sends, to see its end of stream.
    func discardInput() {
        var budget = loop.configuration.receiveBytesPerWakeupMax
        let buffer = loop.receiveBuffer
        while budget > 0 {
            switch try? socket.receive(into: buffer) {
            case .received(let count): budget -= count
            case .wouldBlock: return
            case .endOfStream, nil:
                peerFinished = true
                return
            }
        }
    }

    /// Decodes and acts on whole frames while the connection is reading.
    func handleBufferedFrames() {
        while machine.isReading {
            let action: ConnectionStateMachine.FrameAction
            do {
                guard let frame = try decoder.next() else { return }
                action = machine.frameReceived(frame)
            } catch {
                action = machine.decodeFailed(error)
            }
            perform(action)
        }
    }

    func perform(_ action: ConnectionStateMachine.FrameAction) {
        switch action {
        case .open(let helloOK, let requestID):
            sendControl(.helloOK(helloOK), requestID: requestID)
            guard machine.acceptsSends else { return }
            sendsAccepted.store(true, ordering: .releasing)
            serviceKnowsConnection = true
            loop.counters.countOpened()
            loop.handler.connectionOpened(self)
        case .reply(let frame, let requestID):
            sendControl(frame, requestID: requestID)
        case .deliver(let frame):
            loop.handler.handle(frame, from: self)
        case .fail(let report, let requestID, let reason):
            appendFarewell(.error(report), requestID: requestID)
            beginClose(reason)
        case .close(let reason):
            beginClose(reason)
        }
    }

    // MARK: Timers

    /// Checks this connection's timers (called by the loop every tick).
    func checkTimers() {
        guard !isTornDown else { return }
        switch machine.checkTimers(nowMs: loop.nowMs) {
        case nil:
            return
        case .fail(let report, let reason):
            appendFarewell(.error(report), requestID: 0)
            beginClose(reason)
        case .abort:
            output.discardAll()
            peerFinished = true
            loop.schedule(self)
        }
    }
}
