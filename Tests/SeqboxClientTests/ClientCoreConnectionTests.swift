@testable import SeqboxClient
import SeqboxProtocol
import XCTest

/// The connection lifecycle: reply and connect timeouts, backoff with full jitter, server
/// errors and GOODBYE, stopping.
final class ClientCoreConnectionTests: XCTestCase {
    private func reconnectDelay(_ harness: CoreHarness) -> UInt64? {
        for event in harness.events.reversed() {
            if case .disconnected(_, let delay) = event { return delay }
        }
        return nil
    }

    func testReplyTimeoutClosesAndReconnectsWithinTheBackoffBound() {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 5)
        harness.advance(999)
        XCTAssertTrue(harness.disconnects.isEmpty)
        harness.advance(1)
        XCTAssertEqual(harness.disconnects, [.replyTimedOut])
        XCTAssertEqual(harness.closes, 1)
        let delay = reconnectDelay(harness)!
        XCTAssertLessThanOrEqual(delay, 100, "first delay within the initial bound")
        harness.advance(delay)
        XCTAssertEqual(harness.connects, 2)
    }

    func testBackoffBoundDoublesPerFailureUpToTheMaxAndResetsOnLogin() {
        let backoff = ReconnectBackoff(initialMs: 100, maxMs: 1_600)
        var random = SplitMix64(seed: 9)
        for attempt in 0 ..< 10 {
            let bound = min(1_600, UInt64(100) << UInt64(attempt))
            let delays = (0 ..< 200).map { _ in backoff.delay(attempt: attempt, serverFloorMs: 0, random: &random) }
            XCTAssertLessThanOrEqual(delays.max()!, bound)
            XCTAssertGreaterThan(delays.max()!, bound / 2, "full jitter spreads over the whole range")
        }
        XCTAssertGreaterThanOrEqual(backoff.delay(attempt: 0, serverFloorMs: 5_000, random: &random), 5_000)

        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.connect()
        for _ in 0 ..< 4 {
            harness.core.connectionLost(.connectionLost(errno: 0), now: harness.now)
            harness.drain()
            harness.connect()
        }
        XCTAssertEqual(harness.core.failedAttempts, 4)
        harness.reply(to: .hello, with: .helloOK(Frame.HelloOK()))
        harness.reply(to: .login, with: .loginOK(Frame.LoginOK(newestSeq: 0, confirmedSeq: 0, deviceCursor: 0, firstSeq: 1, epoch: 1)))
        XCTAssertEqual(harness.core.failedAttempts, 0)
    }

    func testConnectTimeoutCountsAsAFailedAttempt() {
        var harness = CoreHarness()
        harness.core.start(now: harness.now)
        harness.drain()
        harness.advance(1_000)
        XCTAssertEqual(harness.disconnects, [.connectTimedOut])
    }

    func testRefusedCredentialsStopWithoutReconnecting() {
        for code in [ErrorCode.authFailed, .tokenExpired, .unsupportedVersion] {
            var harness = CoreHarness()
            harness.connect()
            harness.reply(to: .login, with: .error(Frame.ErrorReport(code: code, message: "no")))
            XCTAssertEqual(harness.core.phase, .stopped, "\(code)")
            XCTAssertTrue(harness.events.contains(.stopped(.refused(code, "no"))))
            harness.advance(120_000)
            XCTAssertEqual(harness.connects, 1)
        }
    }

    func testReplacedStopsAndServerShutdownWaitsItsReconnectAfter() {
        var replaced = CoreHarness(state: CoreHarness.state(held: 0))
        replaced.logIn(newest: 0)
        replaced.push(.goodbye(Frame.Goodbye(reason: .replaced)))
        XCTAssertEqual(replaced.core.phase, .stopped)
        XCTAssertTrue(replaced.events.contains(.stopped(.replaced)))

        var shutdown = CoreHarness(state: CoreHarness.state(held: 0))
        shutdown.logIn(newest: 0)
        shutdown.push(.goodbye(Frame.Goodbye(reason: .serverShutdown, reconnectAfterMs: 5_000)))
        XCTAssertEqual(shutdown.disconnects, [.goodbye(.serverShutdown)])
        XCTAssertGreaterThanOrEqual(reconnectDelay(shutdown)!, 5_000)
    }

    func testClosingErrorDisconnectsAndHonorsRetryAfter() {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        harness.push(.error(Frame.ErrorReport(code: .overloaded, closing: true, retryAfterMs: 2_000)))
        XCTAssertEqual(harness.disconnects, [.serverError(.overloaded, "")])
        XCTAssertGreaterThanOrEqual(reconnectDelay(harness)!, 2_000)
    }

    func testReplyToAnUnknownRequestIsAProtocolViolation() {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        harness.reply(requestID: 999, with: .ackOK(Frame.AckOK(seq: 1)))
        XCTAssertEqual(harness.disconnects.count, 1)
        guard case .protocolViolation? = harness.disconnects.first else { return XCTFail("\(harness.disconnects)") }
    }

    func testStopSaysGoodbyeClosesAndFailsPendingHistory() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        let id = try harness.core.enqueueHistory(after: 0, limit: 5)
        harness.core.stop(now: harness.now)
        harness.drain()
        XCTAssertEqual(harness.lastRequest(.goodbye)?.frame, .goodbye(Frame.Goodbye(reason: .normal)))
        XCTAssertEqual(harness.closes, 1)
        XCTAssertEqual(harness.events.last, .stopped(.requested))
        XCTAssertEqual(harness.historyResults[id], .failure(.stopped))
        XCTAssertThrowsError(try harness.core.enqueueSend(to: 2, body: []))
        XCTAssertNil(harness.core.nextDeadline())
    }

    func testStopAcknowledgesSavedDeliveriesBeforeGoodbye() {
        for saved in [true, false] {
            var harness = CoreHarness(state: CoreHarness.state(held: 0))
            harness.logIn(newest: 5)
            harness.answerPull(CoreHarness.incoming(1 ... 2), newest: 5, hasMore: true)
            XCTAssertTrue(harness.requests(.ack).isEmpty, "mid-sync: no ACK yet")
            if saved { harness.core.markSaved() }
            harness.writes.removeAll()
            harness.core.stop(now: harness.now)
            harness.drain()
            XCTAssertEqual(harness.writes.map(\.frame.type), saved ? [.ack, .goodbye] : [.goodbye],
                           saved ? "the saved held seq is acknowledged on the way out" : "never ACK what is not saved")
        }
    }

    func testDeadlineIsTheEarliestTimer() {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        // Nothing in flight: the next timer is the heartbeat at the server's interval.
        XCTAssertEqual(harness.core.nextDeadline(), harness.now + UInt64(ProtocolConstants.defaultHeartbeatIntervalMs))
        harness.push(.notify(Frame.Notify(newestSeq: 1, epoch: 1)))
        XCTAssertEqual(harness.core.nextDeadline(), harness.now + 1_000, "a PULL in flight: its reply timeout")
    }
}
