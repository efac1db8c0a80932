import SeqboxProtocol
import XCTest
@testable import SeqboxServer

/// The connection state machine without sockets: handshake, heartbeats, timers, back-pressure.
final class AccessStateMachineTests: XCTestCase {
    private func settings(_ adjust: (inout AccessConfiguration) -> Void = { _ in }) -> ConnectionSettings {
        var configuration = AccessConfiguration()
        configuration.idleTimeoutMs = 1_000
        configuration.handshakeTimeoutMs = 5_000
        configuration.closeFlushTimeoutMs = 200
        configuration.requestsInFlightMax = 2
        adjust(&configuration)
        return ConnectionSettings(configuration)
    }

    private func openMachine(nowMs: Int64 = 0) -> ConnectionStateMachine {
        var machine = ConnectionStateMachine(settings: settings(), nowMs: nowMs)
        _ = machine.frameReceived(DecodedFrame(requestID: 1, frame: .hello(Frame.Hello())))
        return machine
    }

    private let ack = DecodedFrame(requestID: 7, frame: .ack(Frame.Ack(seq: 3)))

    // MARK: Handshake

    func testHelloWithACommonVersionOpensWithTheAdvertisedSettings() {
        var machine = ConnectionStateMachine(settings: settings(), nowMs: 0)
        XCTAssertEqual(machine.phase, .awaitingHello)
        XCTAssertFalse(machine.acceptsSends)
        let action = machine.frameReceived(DecodedFrame(requestID: 9, frame: .hello(Frame.Hello(versionMin: 1, versionMax: 5))))
        guard case .open(let helloOK, let requestID) = action else { return XCTFail("\(action)") }
        XCTAssertEqual(requestID, 9)
        XCTAssertEqual(helloOK.version, 1)
        XCTAssertEqual(helloOK.idleTimeoutMs, 1_000)
        XCTAssertEqual(helloOK.requestsInFlightMax, 2)
        XCTAssertEqual(machine.phase, .open)
        XCTAssertTrue(machine.acceptsSends)
    }

    func testHelloWithoutACommonVersionFailsWithUnsupportedVersion() {
        var machine = ConnectionStateMachine(settings: settings(), nowMs: 0)
        let action = machine.frameReceived(DecodedFrame(requestID: 3, frame: .hello(Frame.Hello(versionMin: 2, versionMax: 3))))
        guard case .fail(let report, let requestID, .protocolError) = action else { return XCTFail("\(action)") }
        XCTAssertEqual(report.code, .unsupportedVersion)
        XCTAssertTrue(report.closing)
        XCTAssertEqual(requestID, 3)
        XCTAssertEqual(machine.phase, .awaitingHello, "the connection closes; it never opened")
    }

    func testAnyOtherFirstFrameFailsWithBadFrame() {
        for frame in [Frame.ping(Frame.Ping(nonce: 1)), .ack(Frame.Ack(seq: 1)), .login(Frame.Login(user: 1, device: 1, token: []))] {
            var machine = ConnectionStateMachine(settings: settings(), nowMs: 0)
            guard case .fail(let report, 4, _) = machine.frameReceived(DecodedFrame(requestID: 4, frame: frame)) else {
                return XCTFail("\(frame.type) before HELLO")
            }
            XCTAssertEqual(report.code, .badFrame)
        }
    }

    func testASecondHelloFailsWithBadFrame() {
        var machine = openMachine()
        guard case .fail(let report, _, _) = machine.frameReceived(DecodedFrame(requestID: 2, frame: .hello(Frame.Hello()))) else {
            return XCTFail("second HELLO accepted")
        }
        XCTAssertEqual(report.code, .badFrame)
    }

    func testAWrongMagicBeforeHelloMapsToBadFrame() {
        var machine = ConnectionStateMachine(settings: settings(), nowMs: 0)
        let error = ProtocolError(.badMagic(0x1234), frameType: .hello, requestID: 1)
        guard case .fail(let report, 1, _) = machine.decodeFailed(error) else { return XCTFail() }
        XCTAssertEqual(report.code, .badFrame)
        XCTAssertTrue(report.closing)
    }

    // MARK: Frames after HELLO

    func testPingIsAnsweredWithPongAndGoodbyeClosesQuietly() {
        var machine = openMachine()
        XCTAssertEqual(machine.frameReceived(DecodedFrame(requestID: 5, frame: .ping(Frame.Ping(nonce: 77)))),
                       .reply(.pong(Frame.Pong(nonce: 77)), requestID: 5))
        XCTAssertEqual(machine.frameReceived(DecodedFrame(requestID: 0, frame: .goodbye(Frame.Goodbye(reason: .normal)))),
                       .close(.peerClosed))
    }

    func testOtherFramesAreDeliveredAndCountAsRequestsInFlight() {
        var machine = openMachine()
        XCTAssertEqual(machine.frameReceived(ack), .deliver(ack))
        XCTAssertEqual(machine.requestsInFlight, 1)
        XCTAssertFalse(machine.isReadingPaused)
        XCTAssertEqual(machine.frameReceived(ack), .deliver(ack))
        XCTAssertTrue(machine.isReadingPaused, "2 of 2 requests in flight")
        XCTAssertFalse(machine.isReading)
        machine.serviceSent(replies: 1, loginOK: false, nowMs: 10)
        XCTAssertTrue(machine.isReading)
        machine.serviceSent(replies: 5, loginOK: false, nowMs: 10)
        XCTAssertEqual(machine.requestsInFlight, 0, "never negative")
    }

    func testAnOversizedSendBodyIsAnsweredWithoutClosing() {
        var machine = openMachine()
        let error = ProtocolError(.payloadTooLarge(length: 70_000, limit: 65_536), frameType: .send, requestID: 6)
        guard case .reply(.error(let report), 6) = machine.decodeFailed(error) else { return XCTFail() }
        XCTAssertEqual(report.code, .payloadTooLarge)
        XCTAssertFalse(report.closing)
        XCTAssertEqual(machine.phase, .open)
    }

    func testFramingErrorsCloseWithTheirCode() {
        var machine = openMachine()
        let tooLarge = ProtocolError(.frameTooLarge(length: 1 << 30, limit: 65_536))
        guard case .fail(let report, 0, .protocolError) = machine.decodeFailed(tooLarge) else { return XCTFail() }
        XCTAssertEqual(report.code, .frameTooLarge)
        var other = openMachine()
        guard case .fail(let short, 0, _) = other.decodeFailed(ProtocolError(.frameTooShort(length: 2))) else { return XCTFail() }
        XCTAssertEqual(short.code, .badFrame)
    }

    // MARK: Timers

    func testSilenceBeyondTheIdleTimeoutFailsWithIdleTimeout() {
        var machine = openMachine(nowMs: 100)
        machine.serviceSent(replies: 0, loginOK: true, nowMs: 100)
        XCTAssertNil(machine.checkTimers(nowMs: 1_099))
        machine.bytesReceived(nowMs: 1_000)
        XCTAssertNil(machine.checkTimers(nowMs: 1_999))
        guard case .fail(let report, .idleTimeout) = machine.checkTimers(nowMs: 2_000) else { return XCTFail() }
        XCTAssertEqual(report.code, .idleTimeout)
        XCTAssertTrue(report.closing)
    }

    func testNoLoginOKWithinTheHandshakeTimeoutFails() {
        var machine = openMachine(nowMs: 0)
        for now in stride(from: Int64(500), to: 5_000, by: 500) {
            machine.bytesReceived(nowMs: now)  // a chatty client that never logs in
            XCTAssertNil(machine.checkTimers(nowMs: now))
        }
        guard case .fail(let report, _) = machine.checkTimers(nowMs: 5_000) else { return XCTFail() }
        XCTAssertEqual(report.code, .idleTimeout)
        var loggedIn = openMachine(nowMs: 0)
        loggedIn.serviceSent(replies: 1, loginOK: true, nowMs: 10)
        loggedIn.bytesReceived(nowMs: 4_900)
        XCTAssertNil(loggedIn.checkTimers(nowMs: 5_000))
    }

    func testResumingAfterAPauseRestartsTheIdleClock() {
        var machine = openMachine(nowMs: 0)
        machine.serviceSent(replies: 0, loginOK: true, nowMs: 0)
        _ = machine.frameReceived(ack)
        _ = machine.frameReceived(ack)
        XCTAssertTrue(machine.isReadingPaused)
        machine.serviceSent(replies: 1, loginOK: false, nowMs: 900)
        XCTAssertNil(machine.checkTimers(nowMs: 1_500), "the pause was the server's doing")
        XCTAssertNotNil(machine.checkTimers(nowMs: 1_900))
    }

    func testClosingKeepsTheFirstReasonAndAbortsAtTheDeadline() {
        var machine = openMachine(nowMs: 0)
        XCTAssertTrue(machine.beginClose(.idleTimeout, nowMs: 1_000))
        XCTAssertFalse(machine.beginClose(.serverShutdown, nowMs: 1_010))
        XCTAssertEqual(machine.closeReason, .idleTimeout)
        XCTAssertFalse(machine.acceptsSends)
        XCTAssertFalse(machine.isReading)
        XCTAssertNil(machine.checkTimers(nowMs: 1_199))
        XCTAssertEqual(machine.checkTimers(nowMs: 1_200), .abort)
        machine.shortenCloseDeadline(to: 1_100)
        XCTAssertEqual(machine.closeDeadlineMs, 1_100)
        machine.flushCompleted()
        XCTAssertEqual(machine.phase, .closing(.idleTimeout, flushed: true))
        machine.closed()
        XCTAssertEqual(machine.phase, .closed(.idleTimeout))
    }

    func testFarewellsAndOutputPolicyPerReason() {
        let machine = openMachine()
        XCTAssertEqual(machine.farewell(for: .serverShutdown), .goodbye(Frame.Goodbye(reason: .serverShutdown, reconnectAfterMs: 5_000)))
        guard case .error(let report)? = machine.farewell(for: .slowConsumer) else { return XCTFail("no slow-consumer ERROR") }
        XCTAssertEqual(report.code, .slowConsumer)
        XCTAssertNil(machine.farewell(for: .closedByServer("x")), "the service sends its own")
        XCTAssertNil(machine.farewell(for: .peerClosed))
        XCTAssertTrue(ConnectionStateMachine.abortsOutput(.slowConsumer))
        XCTAssertTrue(ConnectionStateMachine.abortsOutput(.ioError("x")))
        XCTAssertFalse(ConnectionStateMachine.abortsOutput(.serverShutdown))
        XCTAssertFalse(ConnectionStateMachine.abortsOutput(.protocolError("x")))
    }

    func testRepliesAreRecognisedByTheirRequestID() {
        let loginOK = Frame.loginOK(Frame.LoginOK(newestSeq: 0, confirmedSeq: 0, deviceCursor: 0, firstSeq: 1, epoch: 1))
        XCTAssertTrue(ConnectionStateMachine.accounting(of: loginOK, requestID: 2) == (1, true))
        XCTAssertTrue(ConnectionStateMachine.accounting(of: .notify(Frame.Notify(newestSeq: 1, epoch: 1)), requestID: 0) == (0, false))
        XCTAssertTrue(ConnectionStateMachine.accounting(of: .error(Frame.ErrorReport(code: .internal)), requestID: 0) == (0, false))
        XCTAssertTrue(ConnectionStateMachine.accounting(of: .error(Frame.ErrorReport(code: .internal)), requestID: 4) == (1, false))
    }
}
