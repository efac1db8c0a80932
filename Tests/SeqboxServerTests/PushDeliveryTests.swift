#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxFormat
import SeqboxProtocol
import XCTest
@testable import SeqboxServer

/// Offline push through the webhook, in process: a real store and push runtime, fake
/// connections, and a local HTTP receiver with scripted answers.
final class PushDeliveryTests: XCTestCase {
    var receiver: PushTestReceiver!
    var harness: PushServiceHarness!

    override func tearDown() {
        harness?.shutDown()
        receiver?.stop()
        harness = nil
        receiver = nil
    }

    private func start(_ script: @escaping @Sendable (Int, PushTestReceiver.Request) -> PushTestReceiver.Response = { _, _ in .status(200) },
                       options: (String) -> PushOptions = { .testing(webhook: $0) }) throws {
        receiver = try PushTestReceiver(script: script)
        harness = try PushServiceHarness(push: options(receiver.url))
    }

    func testTipArrivesForAnOfflineRecipientAndNoneForAnOnlineOne() throws {
        try start()
        harness.registerOffline(user: 2, token: apnsToken(2))
        harness.registerOffline(user: 3, token: apnsToken(3))
        let alice = harness.logIn(user: 1)
        let carol = harness.logIn(user: 3)
        XCTAssertEqual(harness.send("for carol", to: 3, id: 1, on: alice), 1)
        XCTAssertEqual(harness.send("for bob", to: 2, id: 2, on: alice), 1)
        let tip = try XCTUnwrap(receiver.waitForTip(user: 2, atLeast: 1))
        XCTAssertEqual(tip.json?["sender"] as? Int, 1)
        XCTAssertEqual(tip.json?["epoch"] as? Int, 1)
        XCTAssertEqual(tip.devices.count, 1)
        XCTAssertEqual(tip.devices.first?["platform"] as? String, "apns")
        XCTAssertEqual(tip.devices.first?["token"] as? String, hex(apnsToken(2)))
        XCTAssertEqual(tip.devices.first?["device"] as? Int, 1)
        XCTAssertNil(tip.preview, "previews are off by default")
        // Carol was online: a NOTIFY, no webhook call.
        var notified: [UInt32] = []
        for _ in 0 ..< 1000 where notified.isEmpty {
            notified = carol.frames.compactMap { frame -> UInt32? in
                if case .notify(let notify) = frame.frame { notify.newestSeq } else { nil }
            }
            usleep(5_000)
        }
        XCTAssertEqual(notified.last, 1)
        let statistics = harness.waitForStatistics { $0.sent == 1 }
        XCTAssertEqual(statistics.sent, 1)
        XCTAssertEqual(receiver.posts.filter { $0.user == 3 }.count, 0)
        XCTAssertEqual(receiver.posts.count, 1)
    }

    func testRecipientWithoutRegisteredDeviceIsSkippedWithoutAWebhookCall() throws {
        try start()
        harness.registerOffline(user: 3, token: apnsToken(3))
        let alice = harness.logIn(user: 1)
        harness.send("nobody to wake", to: 2, id: 1, on: alice)
        harness.send("marker", to: 3, id: 2, on: alice)
        XCTAssertNotNil(receiver.waitForTip(user: 3, atLeast: 1))
        let statistics = harness.waitForStatistics { $0.sent == 1 }
        XCTAssertEqual(statistics.skipped, 1)
        XCTAssertEqual(statistics.dropped, 0)
        XCTAssertEqual(receiver.posts.map(\.user), [3])
    }

    func testBurstWhileTheReceiverIsSlowCoalescesIntoFewPostsCarryingTheNewestSeq() throws {
        // The receiver holds its first answer until the burst is over.
        try start({ _, _ in .stalled(status: 200) })
        harness.registerOffline(user: 2, token: apnsToken(2))
        let alice = harness.logIn(user: 1)
        for id in 1 ... 50 { harness.send("message \(id)", to: 2, id: UInt64(id), on: alice) }
        XCTAssertEqual(receiver.waitForPosts(1).count, 1)
        receiver.release()
        XCTAssertNotNil(receiver.waitForTip(user: 2, atLeast: 50))
        let statistics = harness.waitForStatistics { $0.inFlight == 0 && $0.queued == 0 }
        let posts = receiver.posts
        XCTAssertLessThanOrEqual(posts.count, 2, "one tip in flight and one waiting per user: \(posts.map(\.newestSeq))")
        XCTAssertEqual(posts.last?.newestSeq, 50)
        XCTAssertEqual(statistics.enqueued, 50)
        XCTAssertEqual(statistics.sent, posts.count)
        XCTAssertEqual(statistics.coalesced, 50 - posts.count)
    }

    func testServerErrorsAndTimeoutsAreRetriedUntilDelivered() throws {
        try start({ index, _ in
            switch index {
            case 0: .status(500)
            case 1: .delayed(seconds: 4, status: 200)
            case 2: .status(503)
            default: .status(200)
            }
        }, options: { .testing(webhook: $0, timeoutMs: 1_000, retriesMax: 8) })
        harness.registerOffline(user: 2, token: apnsToken(2))
        let alice = harness.logIn(user: 1)
        harness.send("hi", to: 2, id: 1, on: alice)
        let statistics = harness.waitForStatistics { $0.sent == 1 }
        XCTAssertEqual(statistics.sent, 1)
        // A 500, a timeout and a 503, each retried (a loaded machine may time out more).
        XCTAssertGreaterThanOrEqual(statistics.retried, 3)
        XCTAssertEqual(statistics.dropped, 0)
        XCTAssertEqual(receiver.posts.count, statistics.retried + 1)
        XCTAssertEqual(Set(receiver.posts.map(\.newestSeq)), [1])
        XCTAssertTrue(harness.logText.contains("error=\"status 500\""), harness.logText)
        XCTAssertTrue(harness.logText.contains("error=\"timed out\""), harness.logText)
        XCTAssertTrue(harness.logText.contains("error=\"status 503\""), harness.logText)
    }

    func testAClientErrorDropsTheTipWithoutRetryAndLogsIt() throws {
        try start({ index, _ in index == 0 ? .status(400) : .status(200) })
        harness.registerOffline(user: 2, token: apnsToken(2))
        let alice = harness.logIn(user: 1)
        harness.send("hi", to: 2, id: 1, on: alice)
        let statistics = harness.waitForStatistics { $0.droppedRejected == 1 }
        XCTAssertEqual(statistics.droppedRejected, 1)
        XCTAssertEqual(statistics.dropped, 1)
        XCTAssertEqual(statistics.retried, 0)
        XCTAssertEqual(statistics.sent, 0)
        usleep(200_000)
        XCTAssertEqual(receiver.posts.count, 1, "a 4xx is not retried")
        XCTAssertTrue(harness.logText.contains("event=push_rejected user=2 newest_seq=1 status=400"), harness.logText)
    }

    func testRetriesStopAtTheBoundAndTheTipIsDropped() throws {
        try start({ _, _ in .status(500) }, options: { .testing(webhook: $0, retriesMax: 2) })
        harness.registerOffline(user: 2, token: apnsToken(2))
        let alice = harness.logIn(user: 1)
        harness.send("hi", to: 2, id: 1, on: alice)
        let statistics = harness.waitForStatistics { $0.droppedExhausted == 1 }
        XCTAssertEqual(statistics.droppedExhausted, 1)
        XCTAssertEqual(statistics.retried, 2)
        XCTAssertEqual(receiver.posts.count, 3, "the first attempt and two retries")
        XCTAssertTrue(harness.logText.contains("reason=retries_exhausted"))
    }

    func testTheQueueBoundHoldsUnderAFloodOfUsersAndTheOldestTipsAreDropped() throws {
        let users: [UInt64] = Array(100 ..< 160)
        let bound = 10
        try start({ _, _ in .stalled(status: 200) }, options: { .testing(webhook: $0, queueMax: bound, concurrency: 1) })
        for user in users { harness.registerOffline(user: user, token: apnsToken(UInt8(user))) }
        let alice = harness.logIn(user: 1)
        XCTAssertNotNil(harness.send("first", to: users[0], id: 1, on: alice))
        XCTAssertEqual(receiver.waitForPosts(1).count, 1, "the first tip is in flight, the receiver holds it")
        var maxQueued = 0
        for (index, user) in users.dropFirst().enumerated() {
            harness.send("flood", to: user, id: UInt64(index + 2), on: alice)
            maxQueued = max(maxQueued, harness.statistics.queued)
        }
        let flooded = harness.statistics
        XCTAssertLessThanOrEqual(maxQueued, bound)
        XCTAssertEqual(flooded.queued, bound)
        XCTAssertEqual(flooded.inFlight, 1)
        XCTAssertEqual(flooded.droppedOverflow, users.count - 1 - bound)
        receiver.release()
        let drained = harness.waitForStatistics { $0.sent == bound + 1 && $0.inFlight == 0 }
        XCTAssertEqual(drained.sent, bound + 1)
        XCTAssertEqual(drained.queued, 0)
        XCTAssertEqual(drained.outbox, 0)
        // The newest tips survived the overflow, in order.
        XCTAssertEqual(receiver.posts.compactMap(\.user), [users[0]] + users.suffix(bound))
    }

    func testALoginCancelsTheUsersWaitingTipButNotOneInFlight() throws {
        try start({ _, _ in .stalled(status: 200) }, options: { .testing(webhook: $0, concurrency: 1) })
        harness.registerOffline(user: 2, token: apnsToken(2))
        harness.registerOffline(user: 3, token: apnsToken(3))
        let alice = harness.logIn(user: 1)
        harness.send("to bob", to: 2, id: 1, on: alice)
        XCTAssertEqual(receiver.waitForPosts(1).first?.user, 2)
        harness.send("to carol", to: 3, id: 2, on: alice)
        XCTAssertEqual(harness.statistics.queued, 1)
        // Carol's phone comes online: it pulls by itself, the tip is moot.
        _ = harness.logIn(user: 3, device: 1)
        XCTAssertEqual(harness.statistics.queued, 0)
        XCTAssertEqual(harness.statistics.cancelled, 1)
        // Bob logs in while his tip is in flight: it completes.
        _ = harness.logIn(user: 2, device: 1)
        receiver.release()
        let statistics = harness.waitForStatistics { $0.sent == 1 && $0.inFlight == 0 }
        XCTAssertEqual(statistics.sent, 1)
        XCTAssertEqual(statistics.outbox, 0, "the cancelled tip left the outbox too")
        usleep(200_000)
        XCTAssertEqual(receiver.posts.map(\.user), [2])
    }

    func testPreviewIsOffByDefaultAndCutOnACharacterBoundaryWhenOn() throws {
        try start(options: { .testing(webhook: $0, previewBytes: 7) })
        harness.registerOffline(user: 2, token: apnsToken(2))
        let alice = harness.logIn(user: 1)
        // 日本語 is 3 bytes a character: 7 bytes hold two whole ones.
        harness.send("日本語です", to: 2, id: 1, on: alice)
        let tip = try XCTUnwrap(receiver.waitForTip(user: 2, atLeast: 1))
        XCTAssertEqual(tip.preview, "日本")
    }

    func testReRegisteringReplacesTheTokenAndUnregisteringStopsTips() throws {
        try start()
        harness.registerOffline(user: 2, device: 1, token: apnsToken(20))
        harness.registerOffline(user: 2, device: 1, token: apnsToken(21))
        harness.registerOffline(user: 2, device: 2, platform: .fcm, token: Array("fcm-token:abc_DEF-123".utf8))
        let alice = harness.logIn(user: 1)
        harness.send("one", to: 2, id: 1, on: alice)
        let tip = try XCTUnwrap(receiver.waitForTip(user: 2, atLeast: 1))
        let devices = tip.devices.map { "\($0["device"] ?? "")/\($0["platform"] ?? "")/\($0["token"] ?? "")" }
        XCTAssertEqual(devices, ["1/apns/\(hex(apnsToken(21)))", "2/fcm/fcm-token:abc_DEF-123"])

        for device: UInt64 in [1, 2] {
            let connection = harness.logIn(user: 2, device: device)
            XCTAssertEqual(harness.request(.pushUnregister(Frame.PushUnregister()), on: connection), .pushOK(Frame.PushOK(registered: false)))
            harness.disconnect(connection)
        }
        harness.registerOffline(user: 3, token: apnsToken(3))
        harness.send("two", to: 2, id: 2, on: alice)
        harness.send("marker", to: 3, id: 3, on: alice)
        XCTAssertNotNil(receiver.waitForTip(user: 3, atLeast: 1))
        XCTAssertEqual(receiver.posts.map(\.user), [2, 3], "no tip for user 2 after unregistering")
        XCTAssertEqual(harness.statistics.skipped, 1)
    }

    func testATokenRegisteredByAnotherAccountLeavesThePreviousOne() throws {
        try start()
        harness.registerOffline(user: 2, token: apnsToken(9))
        // The phone switches accounts: same app install, same token, another user.
        harness.registerOffline(user: 3, token: apnsToken(9))
        let alice = harness.logIn(user: 1)
        harness.send("for the old account", to: 2, id: 1, on: alice)
        harness.send("for the new account", to: 3, id: 2, on: alice)
        XCTAssertNotNil(receiver.waitForTip(user: 3, atLeast: 1))
        XCTAssertEqual(receiver.posts.map(\.user), [3])
    }

    func testPendingTipsSurviveARestartOfThePushSide() throws {
        // The webhook is down: the tip is retried and stays in the outbox.
        let downURL = "http://127.0.0.1:\(closedLoopbackPort())/push"
        receiver = try PushTestReceiver()
        harness = try PushServiceHarness(push: .testing(webhook: downURL, retriesMax: 100))
        harness.registerOffline(user: 2, token: apnsToken(2))
        let alice = harness.logIn(user: 1)
        harness.send("while the relay is down", to: 2, id: 1, on: alice)
        XCTAssertGreaterThan(harness.waitForStatistics { $0.retried >= 2 }.retried, 1)
        try harness.restartPush(options: .testing(webhook: receiver.url))
        let tip = try XCTUnwrap(receiver.waitForTip(user: 2, atLeast: 1))
        XCTAssertEqual(tip.devices.first?["token"] as? String, hex(apnsToken(2)))
        XCTAssertEqual(harness.waitForStatistics { $0.sent == 1 }.enqueued, 1, "recovered from the outbox")
    }

    func testPushRegisterBeforeLoginIsNotLoggedIn() throws {
        try start()
        let connection = harness.connect()
        let reply = harness.request(.pushRegister(Frame.PushRegister(platform: .apns, token: apnsToken(1))), on: connection)
        XCTAssertEqual(errorCode(reply), .notLoggedIn)
        XCTAssertEqual(errorCode(harness.request(.pushUnregister(Frame.PushUnregister()), on: connection)), .notLoggedIn)
        XCTAssertEqual(harness.statistics.registeredDevices, 0)
    }

    func testPushRegisterIsRefusedWhileShuttingDown() throws {
        try start()
        let connection = harness.logIn(user: 2)
        harness.service.beginShutdown()
        let reply = harness.request(.pushRegister(Frame.PushRegister(platform: .apns, token: apnsToken(1))), on: connection)
        XCTAssertEqual(errorCode(reply), .unavailable)
        XCTAssertEqual(harness.statistics.registeredDevices, 0)
    }

    func testAnFCMTokenThatIsNotPrintableTextIsABadRequest() throws {
        try start()
        let connection = harness.logIn(user: 2)
        let reply = harness.request(.pushRegister(Frame.PushRegister(platform: .fcm, token: [0x00, 0xFF, 0x10])), on: connection)
        XCTAssertEqual(errorCode(reply), .badRequest)
    }
}
