import SeqboxProtocol
import SeqboxSystem

extension StorageNodeClient {
    /// Protocol version the storage RPC speaks (HELLO offers exactly this one, so LOGIN can
    /// follow without waiting for HELLO_OK: PROTOCOL.md §3).
    static let protocolVersion = ProtocolConstants.protocolVersion

    // MARK: Connecting

    /// Starts a non-blocking connect.
    func connect(_ connection: StorageConnection, nowMs: Int64) {
        let socket: Socket
        do {
            socket = try Socket.tcp()
        } catch {
            connection.phase = .idle(retryAtMs: nowMs + backoffMs(attempt: connection.failedAttempts + 1))
            connection.failedAttempts += 1
            log.warning("storage_connect_failed", "node=\(endpoint) connection=\(connection.index) error=\"\(error)\"")
            return
        }
        try? socket.setNoDelay(true)
        connection.resetStream()
        connection.socket = socket
        connection.lastReceivedMs = nowMs
        connection.lastSentMs = nowMs
        do {
            let connected = try socket.connect(to: address)
            connection.phase = .connecting(deadlineMs: nowMs + Int64(configuration.connectTimeoutMs))
            try epoll.add(socket.rawValue, events: .writable, data: connection.epollData)
            connection.registeredEvents = .writable
            if connected { finishConnect(connection, nowMs: nowMs) }
        } catch {
            fail(connection, "connect: \(error)", nowMs: nowMs)
        }
    }

    /// The socket turned writable while connecting: check the outcome, then send HELLO and
    /// LOGIN (with a service token for user 0, device 0) back to back.
    func finishConnect(_ connection: StorageConnection, nowMs: Int64) {
        guard let socket = connection.socket else { return }
        let pending: Errno?
        do {
            pending = try socket.pendingError()
        } catch {
            return fail(connection, "connect: \(error)", nowMs: nowMs)
        }
        if let pending { return fail(connection, "connect: \(SystemError(call: "connect", path: endpoint.description, errno: pending))", nowMs: nowMs) }
        connection.phase = .handshaking(deadlineMs: nowMs + Int64(configuration.handshakeTimeoutMs))
        connection.lastReceivedMs = nowMs
        let version = StorageNodeClient.protocolVersion
        let helloID = connection.takeRequestID()
        connection.inFlight[helloID] = .handshake
        connection.write(.hello(Frame.Hello(versionMin: version, versionMax: version)), requestID: helloID, nowMs: nowMs)
        let expiry = configuration.wallClockSeconds() + configuration.tokenLifetimeSeconds
        let token = tokens.mint(user: 0, device: 0, expiresAtSeconds: expiry)
        let loginID = connection.takeRequestID()
        connection.inFlight[loginID] = .handshake
        connection.write(.login(Frame.Login(user: 0, device: 0, token: token.bytes)), requestID: loginID, nowMs: nowMs)
        flush(connection, nowMs: nowMs)
    }

    /// The delay before reconnect attempt `attempt` (1, 2, …): capped exponential, with the
    /// upper half jittered so a restarted node is not met by every gateway at once.
    func backoffMs(attempt: Int) -> Int64 {
        let shift = min(max(0, attempt - 1), 20)
        let bound = min(Int64(configuration.reconnectBackoffMaxMs), Int64(configuration.reconnectBackoffInitialMs) << Int64(shift))
        let half = bound / 2
        return half + Int64.random(in: 0 ... max(0, bound - half), using: &random)
    }

    // MARK: Failing

    /// Closes `connection`, answers its requests in flight `unavailable`, and schedules a
    /// reconnect. When no connection is left up, the node counts as down.
    func fail(_ connection: StorageConnection, _ reason: String, nowMs: Int64) {
        guard let socket = connection.socket else { return }
        let wasReady = connection.isReady
        socket.close()
        connection.resetStream()
        let report = unavailable("storage node \(endpoint) unreachable: \(reason)")
        let entries = connection.inFlight.values
        connection.inFlight = [:]
        connection.sent = RequestQueue()
        connection.failedAttempts += 1
        connection.phase = .idle(retryAtMs: nowMs + backoffMs(attempt: connection.failedAttempts))
        counters.connectionFailures.add(1, ordering: .relaxed)
        if wasReady {
            log.warning("storage_connection_lost", "node=\(endpoint) connection=\(connection.index) reason=\"\(reason)\"")
        } else if connection.failedAttempts == 1 || !nodeDown.load(ordering: .relaxed) {
            log.warning("storage_connect_failed", "node=\(endpoint) connection=\(connection.index) reason=\"\(reason)\"")
        } else {
            log.debug("storage_connect_failed", "node=\(endpoint) connection=\(connection.index) attempt=\(connection.failedAttempts) reason=\"\(reason)\"")
        }
        if !connections.contains(where: \.isReady) && !nodeDown.exchange(true, ordering: .relaxed) {
            log.warning("storage_node_down", "node=\(endpoint) index=\(nodeIndex)")
        }
        for entry in entries {
            for call in entry.calls { call.fail(report) }
        }
    }

    // MARK: Reading

    /// Reads what the socket holds (up to the per-turn budget) and handles whole frames.
    func receive(on connection: StorageConnection, nowMs: Int64) {
        var budget = configuration.receiveBytesPerTurnMax
        while budget > 0, let socket = connection.socket {
            let result: Socket.ReceiveResult
            do {
                result = try socket.receive(into: receiveBuffer)
            } catch {
                return fail(connection, "receive: \(error)", nowMs: nowMs)
            }
            switch result {
            case .wouldBlock:
                return
            case .endOfStream:
                return fail(connection, "the node closed the connection", nowMs: nowMs)
            case .received(let count):
                connection.lastReceivedMs = nowMs
                connection.timedOutSinceLastReceive = false
                connection.decoder.append(UnsafeRawBufferPointer(rebasing: receiveBuffer[..<count]))
                budget -= count
                let generation = connection.generation
                while connection.generation == generation {
                    let frame: DecodedFrame?
                    do {
                        frame = try connection.decoder.next()
                    } catch {
                        return fail(connection, "malformed frame from the node: \(error)", nowMs: nowMs)
                    }
                    guard let frame else { break }
                    handle(frame, on: connection, nowMs: nowMs)
                }
                if count < receiveBuffer.count { return }
            }
        }
    }

    /// One frame from the node.
    private func handle(_ decoded: DecodedFrame, on connection: StorageConnection, nowMs: Int64) {
        guard decoded.requestID != 0 else {
            switch decoded.frame {
            case .goodbye(let goodbye): fail(connection, "the node said goodbye (\(goodbye.reason))", nowMs: nowMs)
            case .error(let report): fail(connection, "the node closed the connection: \(report.code) \(report.message)", nowMs: nowMs)
            default: fail(connection, "unexpected \(decoded.frame.type) with request ID 0", nowMs: nowMs)
            }
            return
        }
        guard let entry = connection.inFlight.removeValue(forKey: decoded.requestID) else {
            return fail(connection, "an answer to request \(decoded.requestID), which is not in flight", nowMs: nowMs)
        }
        switch entry {
        case .handshake:
            handshakeAnswer(decoded.frame, on: connection, nowMs: nowMs)
        case .ping:
            guard case .pong = decoded.frame else { return fail(connection, "\(decoded.frame.type) answered PING", nowMs: nowMs) }
        case .request(let call):
            call.answer(with: decoded.frame)
        case .appends(let calls):
            switch decoded.frame {
            case .storeAppendOK(let ok) where ok.results.count == calls.count:
                for (call, result) in zip(calls, ok.results) { call.answer(with: result) }
            case .error(let report):
                for call in calls { call.fail(report) }
            default:
                let report = Frame.ErrorReport(code: .internal, message: "storage node answered \(decoded.frame.type) to STORE_APPEND")
                for call in calls { call.fail(report) }
                fail(connection, "a wrong answer to STORE_APPEND", nowMs: nowMs)
            }
        }
    }

    /// HELLO_OK, LOGIN_OK or the ERROR refusing either.
    private func handshakeAnswer(_ frame: Frame, on connection: StorageConnection, nowMs: Int64) {
        switch frame {
        case .helloOK(let ok):
            connection.helloOK = ok
            connection.requestsInFlightMax = max(1, Int(ok.requestsInFlightMax))
            let nodeIdleThird = max(1, Int64(ok.idleTimeoutMs) / 3)
            connection.heartbeatIntervalMs = min(Int64(configuration.heartbeatIntervalMs), nodeIdleThird)
        case .loginOK where connection.helloOK != nil:
            connection.phase = .ready
            connection.failedAttempts = 0
            counters.handshakes.add(1, ordering: .relaxed)
            let wasDown = nodeDown.exchange(false, ordering: .relaxed)
            log.info("storage_connected", "node=\(endpoint) index=\(nodeIndex) connection=\(connection.index) requests_in_flight_max=\(connection.requestsInFlightMax)\(wasDown ? " recovered=true" : "")")
        case .error(let report):
            if report.code == .authFailed || report.code == .tokenExpired {
                log.error("storage_login_refused", "node=\(endpoint) code=\(report.code) detail=\"every process of a cluster must share SEQBOX_SECRET\"")
            }
            fail(connection, "handshake refused: \(report.code) \(report.message)", nowMs: nowMs)
        default:
            fail(connection, "unexpected \(frame.type) during the handshake", nowMs: nowMs)
        }
    }

    // MARK: Writing

    /// Writes pending output until drained or the socket would block; watches for writability
    /// only while output is left.
    func flush(_ connection: StorageConnection, nowMs: Int64) {
        guard let socket = connection.socket else { return }
        if case .connecting = connection.phase { return }
        while connection.pendingOutputCount > 0 {
            let offset = connection.outputOffset
            let result = connection.output.withUnsafeBytes { raw in
                Result { () throws(SystemError) in try socket.send(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
            }
            switch result {
            case .failure(let error):
                return fail(connection, "send: \(error)", nowMs: nowMs)
            case .success(nil):
                break
            case .success(let sent?):
                connection.outputOffset += sent
                if connection.outputOffset == connection.output.count {
                    connection.output.removeAll(keepingCapacity: connection.output.capacity <= StorageNodeClient.receiveChunkBytes)
                    connection.outputOffset = 0
                }
                continue
            }
            break
        }
        var wanted: EpollEvents = [.readable, .peerClosedWriting]
        if connection.pendingOutputCount > 0 { wanted.insert(.writable) }
        guard wanted != connection.registeredEvents else { return }
        do {
            try epoll.modify(socket.rawValue, events: wanted, data: connection.epollData)
            connection.registeredEvents = wanted
        } catch {
            fail(connection, "epoll: \(error)", nowMs: nowMs)
        }
    }
}
