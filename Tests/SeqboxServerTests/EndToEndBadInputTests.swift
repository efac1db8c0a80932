import Foundation
import SeqboxProtocol
import XCTest

/// Bad input against a real seqboxd: each gets its error, the server stays up and keeps
/// serving everyone else.
class EndToEndBadInputTests: EndToEndTestCase {
    static let messageBytesMax = 1024
    static let idleTimeoutMs = 1500

    override var serverArguments: [String] {
        ["--send-rate", "0", "--message-bytes-max", "\(Self.messageBytesMax)", "--idle-timeout-ms", "\(Self.idleTimeoutMs)",
         "--output-buffer-bytes", "1200000"]
    }

    var alice: UInt64 { 11 }
    var bob: UInt64 { 12 }
    var carol: UInt64 { 13 }

    /// The ERROR that arrives (with any request ID) before the server closes, and whether it closed.
    func closingError(of client: ProtocolTestClient, timeout: Double = 5) -> (Frame.ErrorReport?, Bool) {
        let error = try? client.take("a closing ERROR", timeout: timeout) { if case .error = $0.frame { true } else { false } }
        let closed = client.waitForClose(timeout: timeout)
        if case .error(let report)? = error?.frame { return (report, closed) }
        return (nil, closed)
    }

    func testBlockedSenderGetsBlockedAndNothingIsStored() throws {
        let (sender, _) = try server.loggedIn(user: alice)
        let (recipient, _) = try server.loggedIn(user: bob)
        XCTAssertEqual(try recipient.request(.block(Frame.Block(user: alice))), .blockOK(Frame.BlockOK(user: alice, blocked: true)))
        let reply = try sender.request(.send(Frame.Send(to: bob, clientMessageID: 1, body: Array("hi".utf8))))
        XCTAssertEqual(expectError(reply)?.code, .blocked)
        XCTAssertEqual(expectError(reply)?.closing, false)
        let (other, _) = try server.loggedIn(user: carol)
        try send(1, from: other, to: bob)
        XCTAssertEqual(try recipient.pullAll(after: 0).map(\.peer), [carol])
        assertServerStillServes()
    }

    func testWrongTokenIsAuthFailedAndExpiredTokenIsTokenExpired() throws {
        let wrong = try server.client()
        var forged = ServerProcess.token(user: alice, device: 1)
        forged[20] ^= 0xFF
        XCTAssertEqual(expectError(try wrong.login(user: alice, device: 1, token: forged))?.code, .authFailed)
        XCTAssertTrue(wrong.waitForClose(timeout: 5))

        let expired = try server.client()
        let old = ServerProcess.token(user: alice, device: 1, validFor: -60)
        let reply = try expired.login(user: alice, device: 1, token: old)
        XCTAssertEqual(expectError(reply)?.code, .tokenExpired)
        XCTAssertEqual(expectError(reply)?.closing, true)
        XCTAssertTrue(expired.waitForClose(timeout: 5))

        let garbage = try server.client()
        XCTAssertEqual(expectError(try garbage.login(user: alice, device: 1, token: [1, 2, 3]))?.code, .authFailed)
        assertServerStillServes()
    }

    func testAnotherUsersMailboxIsOutOfReach() throws {
        let (sender, _) = try server.loggedIn(user: carol)
        try send(5, from: sender, to: bob)
        // Alice's token does not open Bob's mailbox.
        let intruder = try server.client()
        let reply = try intruder.login(user: bob, device: 1, token: ServerProcess.token(user: alice, device: 1))
        XCTAssertEqual(expectError(reply)?.code, .authFailed)
        XCTAssertTrue(intruder.waitForClose(timeout: 5))
        // Logged in as Alice, every request acts on Alice's own (empty) mailbox.
        let (aliceClient, login) = try server.loggedIn(user: alice)
        XCTAssertEqual(login.newestSeq, 0)
        XCTAssertEqual(try aliceClient.pullAll(after: 0), [])
        XCTAssertEqual(expectError(try aliceClient.request(.pull(Frame.Pull(after: 3, epoch: 0, limit: 10))))?.code, .badRequest)
        XCTAssertEqual(expectError(try aliceClient.request(.ack(Frame.Ack(seq: 5))))?.code, .badRequest)
        let (bobClient, _) = try server.loggedIn(user: bob)
        XCTAssertEqual(try bobClient.pullAll(after: 0).count, 5)
        assertServerStillServes()
    }

    func testGarbageBytesBeforeHelloGetAnErrorAndTheConnectionCloses() throws {
        let client = try ProtocolTestClient.connect(port: server.port)
        try client.sendRaw(Array("GET / HTTP/1.1\r\nHost: example\r\n\r\n".utf8))
        let (error, closed) = closingError(of: client)
        XCTAssertTrue([ErrorCode.frameTooLarge, .badFrame].contains(error?.code), "\(String(describing: error))")
        XCTAssertTrue(closed)
        assertServerStillServes()
    }

    func testWellFramedGarbageAfterLoginIsBadFrameAndCloses() throws {
        let (client, _) = try server.loggedIn(user: alice)
        // A frame of unknown type 0x55 with a valid length.
        try client.sendRaw([12, 0, 0, 0, 0x55, 0, 0, 0, 9, 0, 0, 0, 1, 2, 3, 4])
        let (error, closed) = closingError(of: client)
        XCTAssertEqual(error?.code, .badFrame)
        XCTAssertEqual(error?.closing, true)
        XCTAssertTrue(closed)
        assertServerStillServes()
    }

    func testRandomGarbageNeverTakesTheServerDown() throws {
        let seed = UInt64.random(in: 1 ... UInt64.max)
        var generator = SplitMix64(seed: seed)
        for round in 0 ..< 20 {
            let client = try ProtocolTestClient.connect(port: server.port)
            if round % 2 == 1 { try client.hello() }
            let bytes = (0 ..< Int(generator.next() % 512 + 1)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            try client.sendRaw(bytes)
            client.close()
        }
        XCTAssertTrue(server.isRunning, "seed \(seed)")
        assertServerStillServes()
    }

    func testOversizedFrameIsFrameTooLargeAndCloses() throws {
        let (client, _) = try server.loggedIn(user: alice)
        let declared = UInt32(2 << 20)
        try client.sendRaw(withUnsafeBytes(of: declared.littleEndian, Array.init) + [0x03, 0, 0, 0, 5, 0, 0, 0])
        let (error, closed) = closingError(of: client)
        XCTAssertEqual(error?.code, .frameTooLarge)
        XCTAssertTrue(closed)
        assertServerStillServes()
    }

    func testSendBodyAboveTheLimitIsPayloadTooLargeAndTheConnectionStays() throws {
        let (client, _) = try server.loggedIn(user: alice)
        let reply = try client.request(.send(Frame.Send(to: bob, clientMessageID: 1, body: Array(repeating: 7, count: Self.messageBytesMax + 1))))
        XCTAssertEqual(expectError(reply)?.code, .payloadTooLarge)
        XCTAssertEqual(expectError(reply)?.closing, false)
        let fits = try send(1, from: client, to: bob, firstID: 2) { _ in Array(repeating: 7, count: Self.messageBytesMax) }
        XCTAssertEqual(fits.map(\.seq), [1])
        assertServerStillServes()
    }

    func testUnsupportedVersionIsRefusedAndCloses() throws {
        let client = try ProtocolTestClient.connect(port: server.port)
        let reply = try client.hello(versionMin: 2, versionMax: 3)
        XCTAssertEqual(expectError(reply)?.code, .unsupportedVersion)
        XCTAssertEqual(expectError(reply)?.closing, true)
        XCTAssertTrue(client.waitForClose(timeout: 5))
        assertServerStillServes()
    }

    func testHalfOpenConnectionIsClosedAfterTheIdleTimeout() throws {
        let (silent, _) = try server.loggedIn(user: alice)
        // The client goes away without a FIN (as after a network change): it sends nothing more.
        let started = Date()
        let (error, closed) = closingError(of: silent, timeout: Double(Self.idleTimeoutMs) / 1000 * 4)
        XCTAssertEqual(error?.code, .idleTimeout)
        XCTAssertTrue(closed)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), Double(Self.idleTimeoutMs) / 1000 * 0.8)
        assertServerStillServes()
    }

    func testSlowReaderIsDisconnectedWithoutHurtingOthers() throws {
        let (sender, _) = try server.loggedIn(user: carol)
        try send(256, from: sender, to: alice) { _ in Array(repeating: 0x61, count: 1000) }
        // A client with a tiny receive buffer asks for ~270 KB answers and never reads them.
        let slow = try server.client(receiveBufferBytes: 4096)
        guard case .loginOK = try slow.login(user: alice, device: 1, token: ServerProcess.token(user: alice, device: 1)) else {
            return XCTFail("no LOGIN_OK")
        }
        for _ in 0 ..< 60 { try slow.send(.pull(Frame.Pull(after: 0, epoch: 0, limit: 256))) }
        // Meanwhile another recipient is served normally.
        let (bobClient, _) = try server.loggedIn(user: bob)
        let ok = try send(1, from: sender, to: bob, firstID: 10_000)[0]
        XCTAssertEqual(try bobClient.waitForNotify(atLeast: ok.seq).newestSeq, ok.seq)
        // Now read: the server cut the slow reader off instead of buffering without bound.
        var frames = 0
        let deadline = Date().addingTimeInterval(15)
        while !slow.peerClosed && Date() < deadline {
            _ = try? slow.pump(timeout: 0.5)
            frames += slow.inbox.count
            slow.discardInbox()
        }
        XCTAssertTrue(slow.peerClosed, "the slow reader was not disconnected")
        XCTAssertLessThan(frames, 60, "every answer was buffered")
        XCTAssertTrue(server.logText.contains("reason=\"slow consumer\""), "closed for another reason")
        assertServerStillServes()
    }
}

/// A small seeded generator (SplitMix64) so a failing random test replays from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
