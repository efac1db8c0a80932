import SeqboxProtocol
import SeqboxSystem
import Synchronization
import XCTest
@testable import SeqboxServer
#if canImport(Glibc)
import Glibc
#endif

/// The access layer over real sockets on 127.0.0.1: handshake, heartbeats, framing, errors.
final class AccessLayerTests: XCTestCase {
    private var servers: [AccessServer] = []

    override func tearDown() {
        for server in servers { server.stop() }
        servers = []
        super.tearDown()
    }

    private func startServer(
        handler: AccessRecordingHandler = AccessRecordingHandler(),
        _ adjust: (inout AccessConfiguration) -> Void = { _ in }
    ) throws -> AccessServer {
        let server = AccessServer(configuration: testAccessConfiguration(adjust), handler: handler)
        try server.start()
        servers.append(server)
        XCTAssertNotEqual(server.boundPort, 0)
        return server
    }

    // MARK: Handshake

    func testHelloIsAnsweredWithHelloOKCarryingTheServerSettings() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler) {
            $0.heartbeatIntervalMs = 1_234
            $0.idleTimeoutMs = 5_678
            $0.requestsInFlightMax = 7
            $0.pullLimitMax = 99
        }
        let client = try AccessTestClient(port: server.boundPort)
        let helloOK = try XCTUnwrap(client.handshake(requestID: 42))
        XCTAssertEqual(helloOK.version, ProtocolConstants.protocolVersion)
        XCTAssertEqual(helloOK.heartbeatIntervalMs, 1_234)
        XCTAssertEqual(helloOK.idleTimeoutMs, 5_678)
        XCTAssertEqual(helloOK.requestsInFlightMax, 7)
        XCTAssertEqual(helloOK.pullLimitMax, 99)
        XCTAssertEqual(helloOK.messageBodySizeMax, UInt32(ProtocolConstants.messageBodySizeMax))
        XCTAssertEqual(helloOK.frameLengthMax, UInt32(ProtocolConstants.frameLengthMax))
        XCTAssertTrue(handler.wait { $0.openedIDs.count == 1 })
        XCTAssertEqual(handler.offLoopCalls.load(ordering: .relaxed), 0)
    }

    func testHelloWithAWrongMagicGetsBadFrameAndTheConnectionCloses() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler)
        let client = try AccessTestClient(port: server.boundPort)
        var bytes = FrameEncoder.encode(.hello(Frame.Hello()), requestID: 1)
        bytes[ProtocolConstants.frameHeaderSize] ^= 0xFF  // first magic byte
        try client.sendRaw(bytes)
        let frames = try XCTUnwrap(client.readUntilClosed())
        XCTAssertEqual(frames.count, 1)
        XCTAssertEqual(frames.first?.accessErrorReport?.code, .badFrame)
        XCTAssertEqual(frames.first?.accessErrorReport?.closing, true)
        XCTAssertTrue(handler.openedIDs.isEmpty, "a refused handshake never reaches the service")
    }

    func testHelloWithoutACommonVersionGetsUnsupportedVersionAndTheConnectionCloses() throws {
        let server = try startServer()
        let client = try AccessTestClient(port: server.boundPort)
        try client.send(.hello(Frame.Hello(versionMin: 2, versionMax: 9)), requestID: 3)
        // A LOGIN pipelined behind the refused HELLO is never read.
        try client.send(.login(Frame.Login(user: 1, device: 1, token: [1])), requestID: 4)
        let frames = try XCTUnwrap(client.readUntilClosed())
        XCTAssertEqual(frames.map(\.requestID), [3])
        XCTAssertEqual(frames.first?.accessErrorReport?.code, .unsupportedVersion)
        XCTAssertEqual(frames.first?.accessErrorReport?.closing, true)
    }

    func testAFirstFrameOtherThanHelloGetsBadFrame() throws {
        let server = try startServer()
        let client = try AccessTestClient(port: server.boundPort)
        try client.send(.ping(Frame.Ping(nonce: 1)), requestID: 5)
        let frames = try XCTUnwrap(client.readUntilClosed())
        XCTAssertEqual(frames.first?.accessErrorReport?.code, .badFrame)
        XCTAssertEqual(frames.first?.requestID, 5)
        XCTAssertEqual(frames.count, 1)
    }

    func testASecondHelloGetsBadFrame() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler)
        let client = try AccessTestClient(port: server.boundPort)
        try client.handshake()
        try client.send(.hello(Frame.Hello()), requestID: 2)
        let frames = try XCTUnwrap(client.readUntilClosed())
        XCTAssertEqual(frames.first?.accessErrorReport?.code, .badFrame)
        XCTAssertTrue(handler.wait { $0.closeReasons().values.contains { if case .protocolError = $0 { true } else { false } } })
    }

    // MARK: Heartbeats

    func testPingIsAnsweredWithPongEvenBeforeLogin() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler)
        let client = try AccessTestClient(port: server.boundPort)
        try client.handshake()
        try client.send(.ping(Frame.Ping(nonce: 0x1122_3344_5566_7788)), requestID: 8)
        let reply = try XCTUnwrap(client.readFrame())
        XCTAssertEqual(reply, DecodedFrame(requestID: 8, frame: .pong(Frame.Pong(nonce: 0x1122_3344_5566_7788))))
        XCTAssertTrue(handler.frames().isEmpty, "PING is answered by the access layer")
    }

    func testASilentConnectionIsClosedWithIdleTimeout() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler) { $0.idleTimeoutMs = 300 }
        let client = try AccessTestClient(port: server.boundPort)
        try client.handshake()
        let started = MonotonicClock.nowMs()
        let frames = try XCTUnwrap(client.readUntilClosed(timeoutMs: 3_000))
        let elapsed = MonotonicClock.nowMs() - started
        XCTAssertEqual(frames.count, 1)
        XCTAssertEqual(frames.first?.accessErrorReport?.code, .idleTimeout)
        XCTAssertEqual(frames.first?.requestID, 0)
        XCTAssertGreaterThanOrEqual(elapsed, 250)
        XCTAssertTrue(handler.wait { $0.closeReasons().values.contains(.idleTimeout) })
    }

    func testPingsKeepAConnectionOpenPastTheIdleTimeout() throws {
        let server = try startServer { $0.idleTimeoutMs = 300 }
        let client = try AccessTestClient(port: server.boundPort)
        try client.handshake()
        for nonce in 1 ... 8 {  // 8 × 100 ms: well past 300 ms
            usleep(100_000)
            try client.send(.ping(Frame.Ping(nonce: UInt64(nonce))), requestID: UInt32(nonce + 1))
            let reply = try client.readFrame(timeoutMs: 1_000)
            XCTAssertEqual(reply?.frame, .pong(Frame.Pong(nonce: UInt64(nonce))))
        }
    }

    func testAConnectionWithoutLoginOKIsClosedAfterTheHandshakeTimeout() throws {
        let handler = AccessRecordingHandler { frame, connection in
            // Answer LOGIN from user 1 with LOGIN_OK; ignore others.
            if case .login(let login) = frame.frame, login.user == 1 {
                connection.send(.loginOK(Frame.LoginOK(newestSeq: 0, confirmedSeq: 0, deviceCursor: 0, firstSeq: 1, epoch: 1)),
                                requestID: frame.requestID)
            }
        }
        let server = try startServer(handler: handler) {
            $0.handshakeTimeoutMs = 300
            $0.idleTimeoutMs = 60_000
        }
        let loggedIn = try AccessTestClient(port: server.boundPort)
        try loggedIn.handshake()
        try loggedIn.send(.login(Frame.Login(user: 1, device: 1, token: [1])), requestID: 2)
        XCTAssertEqual(try loggedIn.readFrame()?.requestID, 2)
        let refused = try AccessTestClient(port: server.boundPort)
        try refused.handshake()
        try refused.send(.login(Frame.Login(user: 2, device: 1, token: [1])), requestID: 2)

        let frames = try XCTUnwrap(refused.readUntilClosed(timeoutMs: 3_000))
        XCTAssertEqual(frames.last?.accessErrorReport?.code, .idleTimeout)
        // The logged-in connection is still served.
        try loggedIn.send(.ping(Frame.Ping(nonce: 9)), requestID: 3)
        XCTAssertEqual(try loggedIn.readFrame()?.frame, .pong(Frame.Pong(nonce: 9)))
    }

    // MARK: Framing

    func testFramesSplitAtEveryByteBoundaryAreDecoded() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler)
        let send = Frame.send(Frame.Send(to: 7, clientMessageID: 99, body: Array("split".utf8)))
        let stream = FrameEncoder.encode(.hello(Frame.Hello()), requestID: 1)
            + FrameEncoder.encode(.ping(Frame.Ping(nonce: 5)), requestID: 2)
            + FrameEncoder.encode(send, requestID: 3)
        for split in 1 ..< stream.count {
            let client = try AccessTestClient(port: server.boundPort)
            try client.sendRaw(Array(stream[..<split]))
            usleep(1_000)  // let the server read the first part alone
            try client.sendRaw(Array(stream[split...]))
            XCTAssertEqual(try client.readFrame()?.requestID, 1, "HELLO_OK, split at \(split)")
            XCTAssertEqual(try client.readFrame()?.frame, .pong(Frame.Pong(nonce: 5)), "split at \(split)")
        }
        let expected = stream.count - 1
        XCTAssertTrue(handler.wait { $0.frames().count == expected })
        XCTAssertTrue(handler.frames().allSatisfy { $0 == DecodedFrame(requestID: 3, frame: send) })
    }

    func testFramesDrippedOneByteAtATimeAreDecoded() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler)
        let client = try AccessTestClient(port: server.boundPort)
        let sends = (1 ... 3).map { Frame.send(Frame.Send(to: 2, clientMessageID: UInt64($0), body: [UInt8](repeating: 7, count: $0))) }
        var stream = FrameEncoder.encode(.hello(Frame.Hello()), requestID: 1)
        for (offset, send) in sends.enumerated() { stream += FrameEncoder.encode(send, requestID: UInt32(offset + 2)) }
        for byte in stream {
            try client.sendRaw([byte])
            usleep(200)
        }
        XCTAssertTrue(handler.wait { $0.frames().count == 3 })
        XCTAssertEqual(handler.frames().map(\.frame), sends)
    }

    func testManyFramesInOneWriteAreAllHandledInOrder() throws {
        let handler = AccessRecordingHandler { frame, connection in
            if case .ack(let ack) = frame.frame { connection.send(.ackOK(Frame.AckOK(seq: ack.seq)), requestID: frame.requestID) }
        }
        let server = try startServer(handler: handler)
        let client = try AccessTestClient(port: server.boundPort)
        let count = 500
        var stream = FrameEncoder.encode(.hello(Frame.Hello()), requestID: 1)
        for index in 0 ..< count {
            stream += FrameEncoder.encode(.ping(Frame.Ping(nonce: UInt64(index))), requestID: UInt32(index + 2))
            stream += FrameEncoder.encode(.ack(Frame.Ack(seq: UInt32(index))), requestID: 0x8000_0000 + UInt32(index))
        }
        try client.sendRaw(stream)
        XCTAssertEqual(try client.readFrame()?.requestID, 1)
        for index in 0 ..< count {
            XCTAssertEqual(try client.readFrame()?.frame, .pong(Frame.Pong(nonce: UInt64(index))))
            XCTAssertEqual(try client.readFrame()?.frame, .ackOK(Frame.AckOK(seq: UInt32(index))))
        }
        XCTAssertEqual(handler.frames().map(\.requestID), (0 ..< count).map { 0x8000_0000 + UInt32($0) })
    }

    func testGarbageGetsAnErrorAndACloseWhileOtherConnectionsAreStillServed() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler)
        let healthy = try AccessTestClient(port: server.boundPort)
        try healthy.handshake()
        let garbage = try AccessTestClient(port: server.boundPort)
        try garbage.handshake()
        try garbage.sendRaw([0x10, 0x00, 0x00, 0x00, 0x55, 0xAA, 0x55, 0xAA, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        let frames = try XCTUnwrap(garbage.readUntilClosed())
        XCTAssertEqual(frames.count, 1)
        XCTAssertEqual(frames.first?.accessErrorReport?.code, .badFrame)
        XCTAssertEqual(frames.first?.accessErrorReport?.closing, true)

        try healthy.send(.ping(Frame.Ping(nonce: 3)), requestID: 2)
        XCTAssertEqual(try healthy.readFrame()?.frame, .pong(Frame.Pong(nonce: 3)))
        let late = try AccessTestClient(port: server.boundPort)
        try late.handshake()
    }

    func testADeclaredLengthAboveTheLimitGetsFrameTooLargeAndAClose() throws {
        let server = try startServer()
        let client = try AccessTestClient(port: server.boundPort)
        try client.handshake()
        let length = UInt32(FrameLimits.clientFrames.frameLengthMax + 1)
        try client.sendRaw(withUnsafeBytes(of: length.littleEndian, Array.init) + [0x03, 0, 0, 0, 9, 0, 0, 0])
        let frames = try XCTUnwrap(client.readUntilClosed())
        XCTAssertEqual(frames.count, 1)
        XCTAssertEqual(frames.first?.accessErrorReport?.code, .frameTooLarge)
        XCTAssertEqual(frames.first?.requestID, 0)
    }

    func testASendBodyAboveTheLimitGetsPayloadTooLargeAndTheConnectionStaysOpen() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler) {
            $0.frameLimits = FrameLimits(frameLengthMax: FrameLimits.clientFrames.frameLengthMax, messageBodySizeMax: 1_000)
        }
        let client = try AccessTestClient(port: server.boundPort)
        XCTAssertEqual(try client.handshake()?.messageBodySizeMax, 1_000)
        try client.send(.send(Frame.Send(to: 2, clientMessageID: 1, body: [UInt8](repeating: 1, count: 1_001))), requestID: 2)
        let reply = try XCTUnwrap(client.readFrame())
        XCTAssertEqual(reply.requestID, 2)
        XCTAssertEqual(reply.accessErrorReport?.code, .payloadTooLarge)
        XCTAssertEqual(reply.accessErrorReport?.closing, false)
        let fits = Frame.send(Frame.Send(to: 2, clientMessageID: 2, body: [UInt8](repeating: 1, count: 1_000)))
        try client.send(fits, requestID: 3)
        XCTAssertTrue(handler.wait { $0.frames().count == 1 })
        XCTAssertEqual(handler.frames().first?.frame, fits)
    }

    // MARK: Closing

    func testAClientGoodbyeOrEndOfStreamClosesWithPeerClosed() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler)
        let polite = try AccessTestClient(port: server.boundPort)
        try polite.handshake()
        try polite.send(.goodbye(Frame.Goodbye(reason: .normal)), requestID: 0)
        XCTAssertEqual(try XCTUnwrap(polite.readUntilClosed()).count, 0)
        let abrupt = try AccessTestClient(port: server.boundPort)
        try abrupt.handshake()
        try abrupt.socket.shutdown(.writing)
        XCTAssertEqual(try XCTUnwrap(abrupt.readUntilClosed()).count, 0)
        XCTAssertTrue(handler.wait { $0.closeReasons().count == 2 })
        XCTAssertEqual(Set(handler.closeReasons().values.map(\.description)), ["peer closed"])
    }

    func testAResetPeerIsClosedAndForgotten() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler)
        let client = try AccessTestClient(port: server.boundPort)
        try client.handshake()
        try client.socket.setResetOnClose()
        client.socket.close()
        XCTAssertTrue(handler.wait { $0.closeReasons().count == 1 })
        XCTAssertTrue(accessWaitUntil { server.statistics.connectionsHeld == 0 })
    }

    func testAServiceCloseFlushesQueuedFramesFirst() throws {
        let handler = AccessRecordingHandler { frame, connection in
            let report = Frame.ErrorReport(code: .authFailed, message: "bad token")
            connection.send(.error(report), requestID: frame.requestID)
            connection.close(reason: .closedByServer("auth failed"))
            XCTAssertFalse(connection.send(.notify(Frame.Notify(newestSeq: 1, epoch: 1)), requestID: 0))
        }
        let server = try startServer(handler: handler)
        let client = try AccessTestClient(port: server.boundPort)
        try client.handshake()
        try client.send(.login(Frame.Login(user: 1, device: 1, token: [0])), requestID: 2)
        let frames = try XCTUnwrap(client.readUntilClosed())
        XCTAssertEqual(frames.map(\.requestID), [2])
        XCTAssertEqual(frames.first?.accessErrorReport?.code, .authFailed)
        XCTAssertTrue(handler.wait { $0.closeReasons().values.contains(.closedByServer("auth failed")) })
    }

    // MARK: Back-pressure and bounds

    func testReadingPausesAtRequestsInFlightMaxAndResumesOnReplies() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler) { $0.requestsInFlightMax = 2 }
        let client = try AccessTestClient(port: server.boundPort)
        try client.handshake()
        for seq in 1 ... 5 { try client.send(.ack(Frame.Ack(seq: UInt32(seq))), requestID: UInt32(seq + 1)) }
        XCTAssertTrue(handler.wait { $0.frames().count == 2 })
        usleep(100_000)
        XCTAssertEqual(handler.frames().count, 2, "no third request before a reply")
        let connection = try XCTUnwrap(handler.firstOpened())
        XCTAssertTrue(connection.send(.ackOK(Frame.AckOK(seq: 1)), requestID: 2))  // from this thread
        XCTAssertTrue(handler.wait { $0.frames().count == 3 })
        XCTAssertEqual(try client.readFrame()?.requestID, 2)
        // Two more replies (from the loop this time) let the last two requests in.
        for requestID: UInt32 in [3, 4] {
            connection.execute { connection.send(.ackOK(Frame.AckOK(seq: requestID)), requestID: requestID) }
        }
        XCTAssertTrue(handler.wait { $0.frames().count == 5 })
        XCTAssertEqual(handler.frames().map(\.requestID), [2, 3, 4, 5, 6])
    }

    func testAClientThatDoesNotReadIsDisconnectedAsASlowConsumerWithBoundedMemory() throws {
        let outputBufferBytesMax = 256 << 10
        let record = PullRecord(seq: 1, peer: 2, senderDevice: 3, clientMessageID: 4, timestampMs: 5,
                                body: [UInt8](repeating: 0x5A, count: 60 << 10))
        let frame = Frame.pullOK(Frame.PullOK(newestSeq: 1, epoch: 1, hasMore: false, records: [record]))
        let frameSize = FrameEncoder.encodedSize(of: frame)
        let floodFramesMax = 1_000  // ~60 MiB if nothing stopped it
        let accepted = Atomic<Int>(0)
        let refusedAt = Atomic<Int>(-1)
        let handler = AccessRecordingHandler { decoded, connection in
            guard case .pull = decoded.frame else { return }
            for index in 0 ..< floodFramesMax {
                guard connection.send(frame, requestID: decoded.requestID) else {
                    refusedAt.store(index, ordering: .relaxed)
                    return
                }
                accepted.wrappingAdd(1, ordering: .relaxed)
            }
        }
        let server = try startServer(handler: handler) {
            $0.outputBufferBytesMax = outputBufferBytesMax
            $0.sentFrameLengthMax = FrameLimits.clientFrames.frameLengthMax
        }
        let slow = try AccessTestClient(port: server.boundPort, receiveBufferBytes: 4 << 10)
        try slow.handshake()
        let healthy = try AccessTestClient(port: server.boundPort)
        try healthy.handshake()
        try slow.send(.pull(Frame.Pull(after: 0, epoch: 0, limit: 1)), requestID: 2)

        XCTAssertTrue(handler.wait { $0.closeReasons().values.contains(.slowConsumer) })
        XCTAssertGreaterThan(refusedAt.load(ordering: .relaxed), 0, "the flood was cut off")
        // What the server accepted: its own bound plus what the kernel buffers took, far below
        // the flood (kernel socket buffers autotune to a few MiB at most on loopback).
        let acceptedBytes = accepted.load(ordering: .relaxed) * frameSize
        XCTAssertLessThan(acceptedBytes, outputBufferBytesMax + (16 << 20))
        XCTAssertLessThan(accepted.load(ordering: .relaxed), floodFramesMax)
        XCTAssertEqual(server.statistics.closedSlowConsumerTotal, 1)
        // The server goes on serving others.
        try healthy.send(.ping(Frame.Ping(nonce: 1)), requestID: 2)
        XCTAssertEqual(try healthy.readFrame()?.frame, .pong(Frame.Pong(nonce: 1)))
    }

    func testACrossThreadFloodIsAlsoCutOffAsASlowConsumer() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler) { $0.outputBufferBytesMax = 2 << 20 }
        let slow = try AccessTestClient(port: server.boundPort, receiveBufferBytes: 4 << 10)
        try slow.handshake()
        let connection = try XCTUnwrap(handler.firstOpened())
        let body = [UInt8](repeating: 1, count: 32 << 10)
        let record = PullRecord(seq: 1, peer: 2, senderDevice: 3, clientMessageID: 4, timestampMs: 5, body: body)
        let frame = Frame.pullOK(Frame.PullOK(newestSeq: 1, epoch: 1, hasMore: false, records: [record]))
        var sent = 0
        let deadline = MonotonicClock.nowMs() + 10_000
        while connection.send(frame, requestID: 9), MonotonicClock.nowMs() < deadline, sent < 10_000 {
            sent += 1
        }
        XCTAssertLessThan(sent, 10_000, "sends fail once the connection is closed")
        XCTAssertTrue(handler.wait { $0.closeReasons().values.contains(.slowConsumer) })
    }

    func testAFullInboxFailsTheSendAndClosesTheConnectionAsOverloaded() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler) {
            $0.eventLoopCount = 1
            $0.inboxTasksMax = 2
        }
        let client = try AccessTestClient(port: server.boundPort)
        try client.handshake()
        let connection = try XCTUnwrap(handler.firstOpened())
        let loopBusy = Atomic<Bool>(false)
        connection.execute {
            loopBusy.store(true, ordering: .relaxed)
            usleep(200_000)  // hold the loop so the inbox fills
        }
        XCTAssertTrue(accessWaitUntil { loopBusy.load(ordering: .relaxed) })
        let notify = Frame.notify(Frame.Notify(newestSeq: 1, epoch: 1))
        XCTAssertTrue(connection.send(notify, requestID: 0))
        XCTAssertTrue(connection.send(notify, requestID: 0))
        XCTAssertFalse(connection.send(notify, requestID: 0), "the inbox holds 2 tasks")
        XCTAssertFalse(connection.send(notify, requestID: 0), "no frame overtakes a lost one")

        let frames = try XCTUnwrap(client.readUntilClosed())
        XCTAssertEqual(frames.count, 3)
        XCTAssertEqual(frames.prefix(2).map(\.frame), [notify, notify], "what was queued is still delivered")
        XCTAssertEqual(frames.last?.accessErrorReport?.code, .overloaded)
        XCTAssertTrue(handler.wait { $0.closeReasons().values.contains(.closedByServer("overloaded: event loop inbox full")) })
        XCTAssertEqual(server.statistics.inboxFullTotal, 1)
    }

    func testCrossThreadSendsArriveInOrderPerThread() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler)
        let client = try AccessTestClient(port: server.boundPort)
        try client.handshake()
        let connection = try XCTUnwrap(handler.firstOpened())
        let perThread = 2_000
        let threads = 3
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0 ..< perThread {
                // epoch names the thread, newestSeq counts within it.
                let ok = connection.send(.notify(Frame.Notify(newestSeq: UInt32(index), epoch: UInt32(thread))), requestID: 0)
                XCTAssertTrue(ok)
            }
        }
        var next = [UInt32](repeating: 0, count: threads)
        for _ in 0 ..< threads * perThread {
            guard case .notify(let notify)? = try client.readFrame()?.frame else {
                return XCTFail("missing NOTIFY")
            }
            XCTAssertEqual(notify.newestSeq, next[Int(notify.epoch)], "thread \(notify.epoch) out of order")
            next[Int(notify.epoch)] = notify.newestSeq + 1
        }
        XCTAssertEqual(next, [UInt32](repeating: UInt32(perThread), count: threads))
    }

    func testExecuteRunsOnTheConnectionsLoop() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler)
        let client = try AccessTestClient(port: server.boundPort)
        try client.handshake()
        let connection = try XCTUnwrap(handler.firstOpened())
        XCTAssertFalse(connection.isOnLoop)
        let ranOnLoop = Atomic<Int>(0)
        connection.execute {
            if connection.isOnLoop { ranOnLoop.store(1, ordering: .relaxed) }
            connection.send(.notify(Frame.Notify(newestSeq: 3, epoch: 1)), requestID: 0)
        }
        XCTAssertEqual(try client.readFrame()?.frame, .notify(Frame.Notify(newestSeq: 3, epoch: 1)))
        XCTAssertEqual(ranOnLoop.load(ordering: .relaxed), 1)
    }

    func testConnectionsBeyondTheLimitAreRefusedWithOverloaded() throws {
        let handler = AccessRecordingHandler()
        let server = try startServer(handler: handler) { $0.connectionsMax = 3 }
        XCTAssertEqual(server.effectiveConnectionsMax, 3)
        var clients = try (0 ..< 3).map { _ in try AccessTestClient(port: server.boundPort) }
        for client in clients { try client.handshake() }
        let refused = try AccessTestClient(port: server.boundPort)
        let frames = try XCTUnwrap(refused.readUntilClosed())
        XCTAssertEqual(frames.first?.accessErrorReport?.code, .overloaded)
        XCTAssertEqual(frames.first?.accessErrorReport?.closing, true)
        XCTAssertEqual(server.statistics.refusedTotal, 1)
        // A freed slot is usable again.
        clients.removeFirst()
        XCTAssertTrue(accessWaitUntil { server.statistics.connectionsHeld == 2 })
        let next = try AccessTestClient(port: server.boundPort)
        try next.handshake()
    }

    func testStopSendsGoodbyeClosesEveryConnectionAndJoinsTheLoops() throws {
        let handler = AccessRecordingHandler()
        let descriptorsBefore = try XCTUnwrap(ResourceLimits.openDescriptorCount())
        let server = AccessServer(configuration: testAccessConfiguration { $0.eventLoopCount = 3 }, handler: handler)
        try server.start()
        let clients = try (0 ..< 6).map { _ in try AccessTestClient(port: server.boundPort) }
        for client in clients { try client.handshake() }
        let silent = try AccessTestClient(port: server.boundPort)  // never says HELLO
        XCTAssertTrue(accessWaitUntil { server.statistics.connectionsHeld == 7 })
        XCTAssertEqual(handler.openThreadCount, 3, "connections are spread over the loops")

        server.stop()
        for client in clients {
            let frames = try XCTUnwrap(client.readUntilClosed(timeoutMs: 1_000))
            XCTAssertEqual(frames.map(\.frame), [.goodbye(Frame.Goodbye(reason: .serverShutdown, reconnectAfterMs: 5_000))])
        }
        XCTAssertNotNil(try silent.readUntilClosed(timeoutMs: 1_000))
        XCTAssertEqual(handler.closeReasons().count, 6)
        XCTAssertTrue(handler.closeReasons().values.allSatisfy { $0 == .serverShutdown })
        XCTAssertEqual(server.statistics.connectionsHeld, 0)
        let descriptorsAfter = try XCTUnwrap(ResourceLimits.openDescriptorCount())
        XCTAssertEqual(descriptorsAfter - clients.count - 1, descriptorsBefore, "server descriptors all closed")
        XCTAssertThrowsError(try AccessTestClient(port: server.boundPort), "the listener is closed")
        server.stop()  // idempotent
        withExtendedLifetime((clients, silent)) {}
    }

    func testStopOfAServerThatNeverStartedReturns() {
        let server = AccessServer(configuration: testAccessConfiguration(), handler: AccessRecordingHandler())
        server.stop()
        XCTAssertEqual(server.boundPort, 0)
    }
}
