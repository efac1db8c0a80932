@testable import SeqboxClient
import SeqboxProtocol
import XCTest

/// The push token half of the client state machine (PROTOCOL.md §5.19–§5.21): the newest
/// register or unregister is written after every LOGIN_OK until PUSH_OK answers it, and a
/// refusal is reported, never a crash.
final class ClientCorePushTests: XCTestCase {
    private let token: [UInt8] = Array(1 ... 32)

    func testRegisterMadeBeforeLoginIsSentRightAfterLoginOK() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        try harness.core.enqueuePushRegister(platform: .apns, token: token)
        harness.connect()
        XCTAssertTrue(harness.requests(.pushRegister).isEmpty, "nothing but HELLO and LOGIN before LOGIN_OK")
        harness.reply(to: .hello, with: .helloOK(Frame.HelloOK()))
        harness.reply(to: .login, with: .loginOK(Frame.LoginOK(newestSeq: 0, confirmedSeq: 0, deviceCursor: 0, firstSeq: 1, epoch: 1)))
        let registers = harness.requests(.pushRegister)
        XCTAssertEqual(registers.count, 1)
        XCTAssertEqual(registers.first?.frame, .pushRegister(Frame.PushRegister(platform: .apns, token: token)))
    }

    func testUnansweredRegisterIsSentAgainAfterReconnectUntilPushOK() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        try harness.core.enqueuePushRegister(platform: .fcm, token: Array("fcm-token".utf8))
        harness.tick()
        XCTAssertEqual(harness.requests(.pushRegister).count, 1)
        harness.core.connectionLost(.connectionLost(errno: 104), now: harness.now)
        harness.drain()
        harness.logIn(newest: 0)
        let registers = harness.requests(.pushRegister)
        XCTAssertEqual(registers.count, 2, "the lost registration goes out again on the new connection")
        XCTAssertEqual(registers.last?.frame, .pushRegister(Frame.PushRegister(platform: .fcm, token: Array("fcm-token".utf8))))
        harness.reply(to: .pushRegister, with: .pushOK(Frame.PushOK(registered: true)))
        XCTAssertEqual(harness.events.filter { $0 == .pushChanged(registered: true) }.count, 1)
        XCTAssertNil(harness.core.pushRequest)

        harness.core.connectionLost(.connectionLost(errno: 104), now: harness.now)
        harness.drain()
        harness.logIn(newest: 0)
        XCTAssertEqual(harness.requests(.pushRegister).count, 2, "an answered registration is not sent again")
    }

    func testRefusalSurfacesAsPushFailedAndIsNotRetried() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        try harness.core.enqueuePushRegister(platform: .apns, token: token)
        harness.tick()
        harness.reply(to: .pushRegister, with: .error(Frame.ErrorReport(code: .badRequest, closing: false)))
        XCTAssertTrue(harness.events.contains(.pushFailed(code: .badRequest)))
        XCTAssertTrue(harness.disconnects.isEmpty, "a refused registration keeps the connection")
        XCTAssertEqual(harness.core.phase, .live)
        harness.advance(10_000)
        XCTAssertEqual(harness.requests(.pushRegister).count, 1)
    }

    func testClosingErrorIsReportedAndTheRegistrationDropped() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        try harness.core.enqueuePushRegister(platform: .apns, token: token)
        harness.tick()
        harness.reply(to: .pushRegister, with: .error(Frame.ErrorReport(code: .badFrame, closing: true)))
        XCTAssertTrue(harness.events.contains(.pushFailed(code: .badFrame)))
        XCTAssertEqual(harness.disconnects.count, 1)
        harness.logIn(newest: 0)
        XCTAssertEqual(harness.requests(.pushRegister).count, 1, "a frame the server cannot take is not resent")
    }

    func testNotLoggedInIsRetriedAfterTheServersDelay() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        try harness.core.enqueuePushRegister(platform: .apns, token: token)
        harness.tick()
        harness.reply(to: .pushRegister, with: .error(Frame.ErrorReport(code: .notLoggedIn, closing: false, retryAfterMs: 200)))
        XCTAssertFalse(harness.events.contains { if case .pushFailed = $0 { true } else { false } })
        harness.advance(100)
        XCTAssertEqual(harness.requests(.pushRegister).count, 1, "not before the retry delay")
        harness.advance(100)
        XCTAssertEqual(harness.requests(.pushRegister).count, 2)
        harness.reply(to: .pushRegister, with: .pushOK(Frame.PushOK(registered: true)))
        XCTAssertTrue(harness.events.contains(.pushChanged(registered: true)))
    }

    func testUnregisterIsSentAndReportsNoToken() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        try harness.core.enqueuePushUnregister()
        harness.tick()
        XCTAssertEqual(harness.requests(.pushUnregister).count, 1)
        harness.reply(to: .pushUnregister, with: .pushOK(Frame.PushOK(registered: false)))
        XCTAssertEqual(harness.events.last, .pushChanged(registered: false))
        XCTAssertNil(harness.core.pushRequest)
    }

    func testUnregisterMadeWhileRegisterIsInFlightGoesOutAfterItsAnswer() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        try harness.core.enqueuePushRegister(platform: .apns, token: token)
        harness.tick()
        try harness.core.enqueuePushUnregister()
        harness.tick()
        XCTAssertTrue(harness.requests(.pushUnregister).isEmpty, "one push request in flight at a time keeps their order")
        harness.reply(to: .pushRegister, with: .pushOK(Frame.PushOK(registered: true)))
        XCTAssertEqual(harness.requests(.pushUnregister).count, 1)
        XCTAssertFalse(harness.events.contains(.pushChanged(registered: true)), "a replaced request's answer is not reported")
        harness.reply(to: .pushUnregister, with: .pushOK(Frame.PushOK(registered: false)))
        XCTAssertTrue(harness.events.contains(.pushChanged(registered: false)))
    }

    func testEmptyOrOversizedTokenIsRefusedAtTheCall() {
        var harness = CoreHarness()
        let limit = ProtocolConstants.pushTokenSizeMax
        XCTAssertThrowsError(try harness.core.enqueuePushRegister(platform: .apns, token: [])) { error in
            XCTAssertEqual(error as? ClientError, .invalidPushToken(size: 0, limit: limit))
        }
        XCTAssertThrowsError(try harness.core.enqueuePushRegister(platform: .fcm, token: Array(repeating: 65, count: limit + 1))) { error in
            XCTAssertEqual(error as? ClientError, .invalidPushToken(size: limit + 1, limit: limit))
        }
        XCTAssertNil(harness.core.pushRequest)
        XCTAssertNoThrow(try harness.core.enqueuePushRegister(platform: .fcm, token: Array(repeating: 65, count: limit)))
    }
}
