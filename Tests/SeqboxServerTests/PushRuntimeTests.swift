#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxFormat
import SeqboxProtocol
import XCTest
@testable import SeqboxServer

/// How the push runtime starts with no webhook, a bad one or an unreachable one: it always
/// starts, says what is wrong, and never stands in the way of messages.
final class PushRuntimeTests: XCTestCase {
    var harness: PushServiceHarness!

    override func tearDown() {
        harness?.shutDown()
        harness = nil
    }

    private func waitForLog(_ text: String, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if harness.logText.contains(text) { return true }
            usleep(10_000)
        }
        return false
    }

    func testWithoutAWebhookTipsAreLoggedAndRegistrationsStillPersist() throws {
        harness = try PushServiceHarness(push: .testing(webhook: nil))
        harness.registerOffline(user: 2, token: apnsToken(2))
        let alice = harness.logIn(user: 1)
        harness.send("hi", to: 2, id: 1, on: alice)
        XCTAssertTrue(waitForLog("event=offline_push user=2 newest_seq=1 epoch=1 sender=1"), harness.logText)
        XCTAssertEqual(harness.statistics.enqueued, 0)
        XCTAssertEqual(harness.statistics.registeredDevices, 1)
        try harness.restartPush(options: .testing(webhook: nil))
        XCTAssertEqual(harness.statistics.registeredDevices, 1, "the registration was durable")
    }

    func testABadWebhookURLIsLoggedAndMessagesStillFlow() throws {
        harness = try PushServiceHarness(push: .testing(webhook: "ftp://relay.example.com/push"))
        XCTAssertTrue(harness.logText.contains("level=error event=push_webhook_invalid webhook=ftp://relay.example.com/push"), harness.logText)
        harness.registerOffline(user: 2, token: apnsToken(2))
        let alice = harness.logIn(user: 1)
        let bob = harness.logIn(user: 3)
        XCTAssertEqual(harness.send("online delivery", to: 3, id: 1, on: alice), 1)
        XCTAssertEqual(harness.send("offline", to: 2, id: 2, on: alice), 1)
        // The tip is kept for a restart with a good URL, not sent.
        XCTAssertEqual(harness.statistics.queued, 1)
        XCTAssertEqual(harness.statistics.sent, 0)
        XCTAssertEqual(harness.statistics.outbox, 1)
        let pulled = harness.request(.pull(Frame.Pull(after: 0, epoch: 0, limit: 10)), on: bob)
        guard case .pullOK(let page)? = pulled else { return XCTFail("PULL answered \(String(describing: pulled))") }
        XCTAssertEqual(page.records.map(\.body), [Array("online delivery".utf8)])

        let receiver = try PushTestReceiver()
        defer { receiver.stop() }
        try harness.restartPush(options: .testing(webhook: receiver.url))
        XCTAssertNotNil(receiver.waitForTip(user: 2, atLeast: 1))
    }

    func testAnUnreachableWebhookIsReportedAtStartAndTipsAreRetriedThenDropped() throws {
        harness = try PushServiceHarness(push: .testing(webhook: "http://127.0.0.1:\(closedLoopbackPort())/push", retriesMax: 2))
        XCTAssertTrue(waitForLog("level=warning event=push_webhook_unreachable"), harness.logText)
        harness.registerOffline(user: 2, token: apnsToken(2))
        let alice = harness.logIn(user: 1)
        XCTAssertEqual(harness.send("hi", to: 2, id: 1, on: alice), 1)
        let statistics = harness.waitForStatistics { $0.droppedExhausted == 1 }
        XCTAssertEqual(statistics.droppedExhausted, 1)
        XCTAssertEqual(statistics.retried, 2)
        XCTAssertTrue(harness.logText.contains("error=\"connection refused\""), harness.logText)
    }

    func testStopLogsThePushReport() throws {
        let receiver = try PushTestReceiver()
        defer { receiver.stop() }
        harness = try PushServiceHarness(push: .testing(webhook: receiver.url))
        harness.registerOffline(user: 2, token: apnsToken(2))
        let alice = harness.logIn(user: 1)
        harness.send("hi", to: 2, id: 1, on: alice)
        XCTAssertEqual(harness.waitForStatistics { $0.sent == 1 }.sent, 1)
        harness.runtime.stop()
        XCTAssertTrue(harness.logText.contains("event=push_stopped push_sent=1 push_retried=0 push_dropped=0"), harness.logText)
    }
}
