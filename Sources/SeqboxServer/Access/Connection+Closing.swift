import SeqboxProtocol
import SeqboxSystem

/// Closing and writing: the close sequence (farewell, flush, shut the write side, wait for the
/// peer's end of stream, tear down), the end-of-turn step and epoll interest.
extension Connection {
    // MARK: Closing

    /// Starts closing: no more reading or sends; the farewell frame for `reason` (if any) is
    /// queued; output is flushed (or dropped, when `abort` or the reason says so) at the next
    /// step, then the write side is shut and the peer's end of stream awaited until the close
    /// deadline. `deadlineMs` overrides the deadline (shutdown).
    func beginClose(_ reason: CloseReason, abort: Bool = false, deadlineMs: Int64? = nil) {
        guard !isTornDown else { return }
        defer { loop.schedule(self) }
        guard machine.beginClose(reason, nowMs: loop.nowMs, deadlineMs: deadlineMs) else {
            // Already closing: the first reason stands, but an abort or an earlier deadline applies.
            if let deadlineMs { machine.shortenCloseDeadline(to: deadlineMs) }
            if abort {
                output.discardAll()
                peerFinished = true
            }
            return
        }
        sendsAccepted.store(false, ordering: .releasing)
        loop.counters.countClosed(reason)
        if let farewell = machine.farewell(for: reason) { appendFarewell(farewell, requestID: 0) }
        if abort || ConnectionStateMachine.abortsOutput(reason) {
            // One best-effort write (the farewell may still fit in the kernel's buffer), then go.
            if !waitingForWritable && !peerFinished { _ = flush() }
            output.discardAll()
            peerFinished = true
        }
    }

    /// Closes with ERROR(overloaded): the loop's inbox had no room for a cross-thread call, so a
    /// send or closure for this connection was lost; the client reconnects and resends.
    func closeOverloaded() {
        guard !machine.isClosing else { return }
        let report = Frame.ErrorReport(
            code: .overloaded, closing: true, retryAfterMs: machine.settings.overloadedRetryAfterMs,
            message: "server overloaded")
        appendFarewell(.error(report), requestID: 0)
        beginClose(.closedByServer("overloaded: event loop inbox full"))
    }

    /// Queues a last frame if it fits under the output bound (a peer that does not read will
    /// not see it anyway; the bound is never exceeded for it).
    func appendFarewell(_ frame: Frame, requestID: UInt32) {
        guard output.pendingByteCount + FrameEncoder.encodedSize(of: frame) <= machine.settings.outputBufferBytesMax else { return }
        output.append(frame, requestID: requestID)
    }

    // MARK: The end-of-turn step

    /// Runs once per turn for a scheduled connection: resumes paused reading, flushes output,
    /// advances closing, tells the service about a close, tears down, updates epoll interest.
    func serviceStep() {
        guard !isTornDown else { return }
        if resumePending && machine.isReading {
            resumePending = false
            handleBufferedFrames()
        }
        if machine.isClosing {
            closingStep()
        } else {
            if !waitingForWritable, case .failed(let error) = flush() {
                beginClose(.ioError(error.description), abort: true)
                closingStep()
                return
            }
            updateInterest()
        }
    }

    func closingStep() {
        tellServiceClosed()
        if case .closing(_, flushed: false) = machine.phase, !peerFinished {
            switch waitingForWritable ? .wouldBlock : flush() {
            case .drained:
                if (try? socket.shutdown(.writing)) == nil { peerFinished = true }
                machine.flushCompleted()
                discardInput()
            case .wouldBlock:
                break
            case .failed:
                peerFinished = true
            }
        }
        if peerFinished {
            tearDown()
        } else {
            updateInterest()
        }
    }

    /// Tells the service once that an opened connection is closing.
    private func tellServiceClosed() {
        guard serviceKnowsConnection && !serviceToldClosed, let reason = machine.closeReason else { return }
        serviceToldClosed = true
        loop.handler.connectionClosed(self, reason: reason)
    }

    /// Closes the socket and leaves the loop.
    func tearDown() {
        tellServiceClosed()
        isTornDown = true
        sendsAccepted.store(false, ordering: .releasing)
        machine.closed()
        output.discardAll()
        decoder = FrameDecoder(receiver: .server, limits: machine.settings.frameLimits)
        socket.close()
        loop.forget(self)
    }

    /// Closes at once with nothing flushed (the loop is exiting past its shutdown deadline).
    func abortNow() {
        guard !isTornDown else { return }
        beginClose(.serverShutdown, abort: true)  // drops the output, marks the peer finished
        tearDown()
    }

    // MARK: Writing

    enum FlushOutcome {
        case drained
        case wouldBlock
        case failed(SystemError)
    }

    /// Writes pending output until it is drained or the socket would block.
    func flush() -> FlushOutcome {
        while !output.isEmpty {
            var failure: SystemError?
            var blocked = false
            output.write { pending in
                switch Result(catching: { () throws(SystemError) in try socket.send(pending) }) {
                case .failure(let error):
                    failure = error
                    return 0
                case .success(nil):
                    blocked = true
                    return 0
                case .success(let sent?):
                    // A short send means the kernel buffer is full: do not try again at once.
                    if sent < pending.count { blocked = true }
                    return sent
                }
            }
            if let failure { return .failed(failure) }
            if blocked {
                waitingForWritable = true
                return .wouldBlock
            }
        }
        waitingForWritable = false
        return .drained
    }

    /// Registers the events the connection waits for now, if they changed.
    func updateInterest() {
        var wanted: EpollEvents = []
        switch machine.phase {
        case .awaitingHello, .open:
            if machine.isReading { wanted.formUnion(Connection.readEvents) }
            if waitingForWritable { wanted.insert(.writable) }
        case .closing(_, let flushed):
            if flushed { wanted.formUnion(Connection.readEvents) } else if waitingForWritable { wanted.insert(.writable) }
        case .closed:
            return
        }
        guard wanted != registeredEvents else { return }
        do {
            try loop.epoll.modify(socket.rawValue, events: wanted, data: epollData)
            registeredEvents = wanted
        } catch {
            beginClose(.ioError(error.description), abort: true)
            if !isTornDown { tearDown() }
        }
    }
}
