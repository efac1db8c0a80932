#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxProtocol
import XCTest
@testable import SeqboxServer

/// Offline push through a real `seqboxd`: registrations over the wire, tips to a local webhook
/// receiver, and what survives a restart (graceful or kill -9).
final class PushEndToEndTests: EndToEndTestCase {
    var receiver: PushTestReceiver!

    override func setUpWithError() throws {
        receiver = try PushTestReceiver()
        try super.setUpWithError()
    }

    override func tearDown() {
        super.tearDown()
        receiver?.stop()
        receiver = nil
    }

    override var serverArguments: [String] { pushArguments(webhook: receiver.url) }

    private func pushArguments(webhook: String) -> [String] {
        ["--send-rate", "0", "--push-webhook", webhook, "--push-retries-max", "100", "--push-backoff-ms", "50", "--push-backoff-max-ms", "200"]
    }

    /// Logs `user` in, registers `token` (PUSH_OK), and leaves with GOODBYE: once the server has
    /// closed the connection, it knows the user is offline.
    private func registerOffline(user: UInt64, device: UInt64 = 1, token: [UInt8]) throws {
        let (client, _) = try server.loggedIn(user: user, device: device)
        XCTAssertEqual(try client.request(.pushRegister(Frame.PushRegister(platform: .apns, token: token))), .pushOK(Frame.PushOK(registered: true)))
        try goOffline(client)
    }

    private func goOffline(_ client: ProtocolTestClient) throws {
        try client.send(.goodbye(Frame.Goodbye(reason: .normal)))
        XCTAssertTrue(client.waitForClose(timeout: 10))
    }

    /// Waits for a line containing `text` in the server's log.
    private func waitForLog(_ text: String, timeout: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if server.logText.contains(text) { return true }
            usleep(10_000)
        }
        return false
    }

    /// Waits until the push journal holds a tip for `user` up to `seq`.
    private func waitForOutboxEntry(user: UInt64, seq: UInt32, timeout: Double = 15) -> Bool {
        let path = server.dataDirectory + "/push/" + PushJournal.fileName
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: path) {
                let (entries, _) = [UInt8](data).withUnsafeBytes { PushJournal.readEntries($0) }
                let found = entries.contains { entry in
                    if case .tipEnqueued(let tip) = entry { tip.user.rawValue == user && tip.newestSeq.rawValue == seq } else { false }
                }
                if found { return true }
            }
            usleep(5_000)
        }
        return false
    }

    /// Restarts the server over the same data with `arguments`.
    private func restart(arguments: [String]) throws {
        server = ServerProcess(dataDirectory: server.dataDirectory, arguments: arguments)
        try server.start()
    }

    func testAPendingTipIsDeliveredAfterSeqboxdIsKilledAndRestarted() throws {
        try registerOffline(user: 2, token: apnsToken(2))
        let (alice, _) = try server.loggedIn(user: 1)
        try send(1, from: alice, to: 2)
        XCTAssertNotNil(receiver.waitForTip(user: 2, atLeast: 1), "the relay is up: the first tip goes out")

        // The relay goes down; the next tip fails and is retried from the outbox.
        receiver.stop()
        let ok = try send(1, from: alice, to: 2, firstID: 2)
        XCTAssertEqual(ok.first?.seq, 2)
        XCTAssertTrue(waitForLog("event=push_retry user=2 newest_seq=2 attempt=1"), server.logText)
        // kill -9 loses what the process has not written; the page cache keeps the rest. So
        // once the outbox entry is in the file, the tip must survive.
        XCTAssertTrue(waitForOutboxEntry(user: 2, seq: 2), "the tip reached the push journal")
        server.kill(signal: SIGKILL)

        receiver = try PushTestReceiver()
        try restart(arguments: pushArguments(webhook: receiver.url))
        let tip = try XCTUnwrap(receiver.waitForTip(user: 2, atLeast: 2), server.logText)
        XCTAssertEqual(tip.newestSeq, 2)
        XCTAssertEqual(tip.json?["sender"] as? Int, 1)
        XCTAssertEqual(tip.devices.first?["token"] as? String, hex(apnsToken(2)))
        XCTAssertTrue(server.logText.contains("outbox=1"), server.logText)
    }

    func testRegistrationSurvivesARestartReRegisteringReplacesAndUnregisteringStopsTips() throws {
        try registerOffline(user: 2, token: apnsToken(20))
        try registerOffline(user: 3, token: apnsToken(30))
        XCTAssertEqual(server.kill(signal: SIGTERM), 0)
        XCTAssertTrue(server.logText.contains("event=push_stopped"), server.logText)
        try restart(arguments: serverArguments)

        let (alice, _) = try server.loggedIn(user: 1)
        try send(1, from: alice, to: 2)
        let first = try XCTUnwrap(receiver.waitForTip(user: 2, atLeast: 1), server.logText)
        XCTAssertEqual(first.devices.first?["token"] as? String, hex(apnsToken(20)), "registered before the restart")

        try registerOffline(user: 2, token: apnsToken(21))
        try send(1, from: alice, to: 2, firstID: 2)
        let second = try XCTUnwrap(receiver.waitForTip(user: 2, atLeast: 2), server.logText)
        XCTAssertEqual(second.devices.map { $0["token"] as? String }, [hex(apnsToken(21))], "the new token replaced the old one")

        let (bob, _) = try server.loggedIn(user: 2)
        XCTAssertEqual(try bob.request(.pushUnregister(Frame.PushUnregister())), .pushOK(Frame.PushOK(registered: false)))
        try goOffline(bob)
        try send(1, from: alice, to: 2, firstID: 3)
        // User 3's tip comes after user 2's message: had user 2 a device, its tip would be first.
        try send(1, from: alice, to: 3, firstID: 4)
        XCTAssertNotNil(receiver.waitForTip(user: 3, atLeast: 1), server.logText)
        XCTAssertEqual(receiver.posts.compactMap(\.user), [2, 2, 3], "no tip for user 2 after PUSH_UNREGISTER")
    }

    func testPushRegisterBeforeLoginIsNotLoggedInAndAnOversizedTokenIsABadFrame() throws {
        let client = try server.client()
        let early = try client.request(.pushRegister(Frame.PushRegister(platform: .apns, token: apnsToken(1))))
        XCTAssertEqual(expectError(early)?.code, .notLoggedIn)
        XCTAssertFalse(client.peerClosed, "notLoggedIn does not close")

        guard case .loginOK = try client.login(user: 5, device: 1, token: ServerProcess.token(user: 5, device: 1)) else {
            return XCTFail("no LOGIN_OK")
        }
        // PUSH_REGISTER with a token one byte over the limit, laid out by hand (the encoder
        // refuses to build it).
        let tokenLength = ProtocolConstants.pushTokenSizeMax + 1
        var frame: [UInt8] = []
        frame += withUnsafeBytes(of: UInt32(8 + 4 + tokenLength).littleEndian, Array.init)
        frame += [FrameType.pushRegister.rawValue, 0, 0, 0]
        frame += withUnsafeBytes(of: UInt32(77).littleEndian, Array.init)
        frame += [PushPlatform.apns.rawValue, 0]
        frame += withUnsafeBytes(of: UInt16(tokenLength).littleEndian, Array.init)
        frame += [UInt8](repeating: 0xAB, count: tokenLength)
        try client.sendRaw(frame)
        let reply = try client.take("ERROR", where: { if case .error = $0.frame { true } else { false } }).frame
        XCTAssertEqual(expectError(reply)?.code, .badFrame)
        XCTAssertEqual(expectError(reply)?.closing, true)
        XCTAssertTrue(client.waitForClose(timeout: 10))
        assertServerStillServes()
    }
}

/// A webhook URL that cannot work: seqboxd starts, says so, and serves.
final class PushEndToEndBadWebhookTests: EndToEndTestCase {
    override var serverArguments: [String] { ["--send-rate", "0", "--push-webhook", "ftp://relay.invalid/push"] }

    func testABadWebhookURLIsLoggedAtStartAndMessagesStillFlow() {
        XCTAssertTrue(server.logText.contains("level=error event=push_webhook_invalid webhook=ftp://relay.invalid/push"), server.logText)
        assertServerStillServes()
    }
}

/// A webhook nobody answers: seqboxd starts, warns, and serves.
final class PushEndToEndUnreachableWebhookTests: EndToEndTestCase {
    override var serverArguments: [String] { ["--send-rate", "0", "--push-webhook", "http://127.0.0.1:\(closedLoopbackPort())/push"] }

    func testAnUnreachableWebhookIsLoggedAtStartAndMessagesStillFlow() {
        let deadline = Date().addingTimeInterval(15)
        while !server.logText.contains("event=push_webhook_unreachable") && Date() < deadline { usleep(10_000) }
        XCTAssertTrue(server.logText.contains("level=warning event=push_webhook_unreachable"), server.logText)
        assertServerStillServes()
    }
}
