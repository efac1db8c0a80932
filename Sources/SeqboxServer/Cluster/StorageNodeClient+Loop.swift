import SeqboxProtocol
import SeqboxSystem

extension StorageNodeClient {
    /// The I/O thread's body. A turn: wait in epoll_wait(2) until the next deadline or an event
    /// → read answers and complete their requests, finish connects → take the queue → timers
    /// (connect and handshake deadlines, reconnects, heartbeats, request timeouts) → pack the
    /// waiting requests into frames → flush every connection with one send(2) each.
    func run() {
        ThreadName.set("seqbox-node-\(nodeIndex)")
        while !stopRequested.load(ordering: .acquiring) {
            var nowMs = MonotonicClock.nowMs()
            let waitMs = max(0, min(nextWakeMs(nowMs: nowMs), nowMs + StorageNodeClient.idleWaitMs) - nowMs)
            let count: Int
            do {
                count = try epoll.wait(into: events, timeoutMs: Int32(clamping: waitMs))
            } catch {
                preconditionFailure("storage client \(endpoint): \(error)")
            }
            nowMs = MonotonicClock.nowMs()
            for slot in 0 ..< count { dispatch(data: events.data(at: slot), events: events.events(at: slot), nowMs: nowMs) }
            takeQueued()
            checkTimers(nowMs: nowMs)
            sendWaiting(nowMs: nowMs)
            for connection in connections { flush(connection, nowMs: nowMs) }
        }
        finish()
    }

    /// The earliest time something is due: a waiting request's deadline, a connection's
    /// deadline, reconnect or heartbeat, or the oldest request in flight's deadline.
    private func nextWakeMs(nowMs: Int64) -> Int64 {
        var next = Int64.max
        if let first = waiting.first { next = min(next, first.deadlineMs) }
        for connection in connections {
            switch connection.phase {
            case .idle(let retryAtMs): next = min(next, retryAtMs)
            case .connecting(let deadlineMs), .handshaking(let deadlineMs): next = min(next, deadlineMs)
            case .ready:
                // A heartbeat is due only if it can be sent; at the in-flight limit, answers come first.
                if connection.inFlight.count < connection.requestsInFlightMax {
                    next = min(next, connection.lastSentMs + connection.heartbeatIntervalMs)
                }
                if connection.timedOutSinceLastReceive { next = min(next, connection.lastReceivedMs + Int64(configuration.requestTimeoutMs)) }
            }
            if let oldest = connection.sent.first { next = min(next, oldest.deadlineMs) }
        }
        return next
    }

    private func dispatch(data: UInt64, events: EpollEvents, nowMs: Int64) {
        if data == StorageNodeClient.wakeupData {
            drainWakeup()
            return
        }
        let index = Int(UInt32(truncatingIfNeeded: data))
        guard index < connections.count else { return }
        let connection = connections[index]
        guard connection.socket != nil, connection.epollData == data else { return }
        if case .connecting = connection.phase {
            finishConnect(connection, nowMs: nowMs)
            return
        }
        if !events.isDisjoint(with: [.readable, .peerClosedWriting, .hangUp, .error]) {
            receive(on: connection, nowMs: nowMs)
        }
        if events.contains(.writable), connection.socket != nil {
            flush(connection, nowMs: nowMs)
        }
    }

    // MARK: Timers

    private func checkTimers(nowMs: Int64) {
        for connection in connections {
            switch connection.phase {
            case .idle(let retryAtMs):
                if nowMs >= retryAtMs { connect(connection, nowMs: nowMs) }
            case .connecting(let deadlineMs):
                if nowMs >= deadlineMs { fail(connection, "connect timed out after \(configuration.connectTimeoutMs) ms", nowMs: nowMs) }
            case .handshaking(let deadlineMs):
                if nowMs >= deadlineMs { fail(connection, "handshake timed out after \(configuration.handshakeTimeoutMs) ms", nowMs: nowMs) }
            case .ready:
                expireInFlight(on: connection, nowMs: nowMs)
                if connection.isReady && nowMs - connection.lastSentMs >= connection.heartbeatIntervalMs
                    && connection.inFlight.count < connection.requestsInFlightMax {
                    let id = connection.takeRequestID()
                    connection.inFlight[id] = .ping
                    connection.write(.ping(Frame.Ping(nonce: UInt64(nowMs))), requestID: id, nowMs: nowMs)
                }
            }
        }
        // Requests that found no connection in time.
        while let first = waiting.first, first.deadlineMs <= nowMs {
            waiting.removeFirst()
            released(first)
            counters.timedOut.add(1, ordering: .relaxed)
            first.fail(unavailable("no connection to storage node \(endpoint) within \(configuration.requestTimeoutMs) ms"))
        }
    }

    /// Answers the requests in flight past their deadline `unavailable` (they stay counted in
    /// flight until the node answers, which is then dropped). A connection that, after such a
    /// timeout, receives nothing for a whole request timeout is taken as hung and replaced.
    private func expireInFlight(on connection: StorageConnection, nowMs: Int64) {
        var expired = 0
        while let first = connection.sent.first, first.isAnswered || first.deadlineMs <= nowMs {
            connection.sent.removeFirst()
            guard !first.isAnswered else { continue }
            expired += 1
            counters.timedOut.add(1, ordering: .relaxed)
            first.fail(unavailable("storage node \(endpoint) did not answer within \(configuration.requestTimeoutMs) ms"))
        }
        if expired > 0 { connection.timedOutSinceLastReceive = true }
        if connection.timedOutSinceLastReceive && nowMs - connection.lastReceivedMs >= Int64(configuration.requestTimeoutMs) {
            fail(connection, "nothing received for \(nowMs - connection.lastReceivedMs) ms after a request timed out", nowMs: nowMs)
        }
    }

    // MARK: Packing requests into frames

    /// Writes waiting requests into ready connections with room: append groups packed into
    /// STORE_APPEND frames (as many groups per frame as the limits allow), other requests one
    /// frame each. What finds no room waits for answers to free some.
    private func sendWaiting(nowMs: Int64) {
        guard !waiting.isEmpty else { return }
        if nodeDown.load(ordering: .relaxed) && !connections.contains(where: \.isReady) {
            while !waiting.isEmpty {
                let call = waiting.removeFirst()
                released(call)
                counters.failedFast.add(1, ordering: .relaxed)
                call.fail(unavailable("storage node \(endpoint) is down"))
            }
            return
        }
        var batch = AppendBatch()
        var batchConnection: StorageConnection?
        packing: while let call = waiting.first {
            guard let payload = call.payload, !call.isAnswered else {
                waiting.removeFirst()
                released(call)
                continue
            }
            switch payload {
            case .append(let group):
                let size = AppendBatch.encodedSize(of: group)
                if let connection = batchConnection, !batch.fits(size) {
                    emit(&batch, on: connection, nowMs: nowMs)
                    batchConnection = nil
                }
                if batchConnection == nil {
                    guard let connection = connectionWithRoom(reservedOn: nil) else { break packing }
                    batchConnection = connection
                }
                waiting.removeFirst()
                released(call)
                batch.add(group, size: size, call: call)
            case .request(let frame):
                guard let connection = connectionWithRoom(reservedOn: batchConnection) else { break packing }
                waiting.removeFirst()
                released(call)
                let id = connection.takeRequestID()
                connection.inFlight[id] = .request(call)
                connection.sent.append(call)
                connection.write(frame, requestID: id, nowMs: nowMs)
                call.markSent()
                counters.framesSent.add(1, ordering: .relaxed)
            }
        }
        if let connection = batchConnection { emit(&batch, on: connection, nowMs: nowMs) }
    }

    /// The ready connection with the fewest requests in flight that can take one more frame
    /// (counting the STORE_APPEND being packed for `reservedOn`), or nil.
    private func connectionWithRoom(reservedOn reserved: StorageConnection?) -> StorageConnection? {
        var best: StorageConnection?
        var bestLoad = Int.max
        for connection in connections where connection.isReady {
            let load = connection.inFlight.count + (connection === reserved ? 1 : 0)
            guard load < connection.requestsInFlightMax, connection.pendingOutputCount < configuration.outputBufferBytesMax else { continue }
            if load < bestLoad {
                best = connection
                bestLoad = load
            }
        }
        return best
    }

    /// Writes the packed groups as one STORE_APPEND on `connection` and empties `batch`.
    private func emit(_ batch: inout AppendBatch, on connection: StorageConnection, nowMs: Int64) {
        guard !batch.calls.isEmpty else { return }
        let id = connection.takeRequestID()
        connection.inFlight[id] = .appends(batch.calls)
        for call in batch.calls {
            connection.sent.append(call)
            call.markSent()
        }
        connection.write(.storeAppend(Frame.StoreAppend(groups: batch.groups)), requestID: id, nowMs: nowMs)
        counters.framesSent.add(1, ordering: .relaxed)
        counters.appendGroupsSent.add(batch.calls.count, ordering: .relaxed)
        batch = AppendBatch()
    }

    // MARK: Shutdown

    /// Answers everything `unavailable`, closes the connections and the queue.
    private func finish() {
        let report = unavailable("gateway stopping")
        for connection in connections where connection.socket != nil {
            connection.socket?.close()
            connection.resetStream()
            for call in connection.inFlight.values.flatMap(\.calls) { call.fail(report) }
            connection.inFlight = [:]
            connection.sent = RequestQueue()
            connection.phase = .idle(retryAtMs: .max)
        }
        while !waiting.isEmpty {
            let call = waiting.removeFirst()
            released(call)
            call.fail(report)
        }
        for call in closeQueue() {
            released(call)
            call.fail(report)
        }
    }
}

/// Append groups being packed into one STORE_APPEND, within the protocol's group count and
/// frame length limits.
struct AppendBatch {
    var groups: [StoreAppendGroup] = []
    var calls: [StorageCall] = []
    /// The frame's `length` field so far (header after the length field, plus the body).
    private(set) var frameLength = ProtocolConstants.frameLengthMin + ProtocolConstants.storeAppendFixedSize

    static func encodedSize(of group: StoreAppendGroup) -> Int { group.encodedSize }

    /// True if a group of `size` bytes still fits (an empty batch takes any valid group).
    func fits(_ size: Int) -> Bool {
        groups.isEmpty || (groups.count < ProtocolConstants.storeAppendGroupsMax && frameLength + size <= ProtocolConstants.frameLengthMax)
    }

    mutating func add(_ group: StoreAppendGroup, size: Int, call: StorageCall) {
        groups.append(group)
        calls.append(call)
        frameLength += size
    }
}

extension StorageConnection.InFlight {
    /// The storage calls this entry answers.
    var calls: [StorageCall] {
        switch self {
        case .handshake, .ping: []
        case .request(let call): [call]
        case .appends(let calls): calls
        }
    }
}
