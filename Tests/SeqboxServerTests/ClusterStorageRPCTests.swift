import Foundation
import SeqboxProtocol
import XCTest

/// A storage node (`seqboxd --role storage`) as a real process, spoken to directly over the
/// storage RPC: what it serves, and bad input refused without harm (the node answers ERROR or
/// closes that connection, stays up, and other connections and the stored data are untouched).
final class ClusterStorageRPCTests: EndToEndTestCase {
    override func makeServer(directory: String, arguments: [String]) throws -> ServerProcess {
        ServerProcess(dataDirectory: directory, arguments: ["--role", "storage"])
    }

    let alice: UInt64 = 41
    let bob: UInt64 = 42

    func message(to user: UInt64, from sender: UInt64, id: UInt64, outgoing: Bool = false, body: String = "hello") -> StoreMessage {
        StoreMessage(user: user, sender: sender, device: 1, clientMessageID: id, timestampMs: 1_700_000_000_000 + id, outgoing: outgoing, body: Array(body.utf8))
    }

    /// A logged-in connection that stored three messages for Bob; `assertUnharmed` checks it later.
    func storeBaseline() throws -> ProtocolTestClient {
        let good = try server.storageClient()
        let groups = (1 ... 3).map { StoreAppendGroup(refuseIfBlocked: true, messages: [message(to: bob, from: alice, id: UInt64($0)), message(to: alice, from: bob, id: UInt64($0), outgoing: true)]) }
        let reply = try good.request(.storeAppend(Frame.StoreAppend(groups: groups)))
        guard case .storeAppendOK(let ok) = reply else { throw ProtocolTestClientError.unexpected("STORE_APPEND answered \(reply)") }
        XCTAssertEqual(ok.results.count, 3)
        return good
    }

    /// The node is up, `good` still works, and Bob's mailbox holds exactly the baseline.
    func assertUnharmed(_ good: ProtocolTestClient, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(server.isRunning, "the storage node exited: \(server.logText.suffix(2000))", file: file, line: line)
        do {
            XCTAssertEqual(try good.storePullAll(user: bob).map(\.clientMessageID), [1, 2, 3], file: file, line: line)
            XCTAssertEqual(try good.storeNewest(user: alice).newestSeq, 3, file: file, line: line)
            let fresh = try server.storageClient()
            XCTAssertEqual(try fresh.storePullAll(user: bob).count, 3, file: file, line: line)
        } catch {
            XCTFail("the node no longer serves: \(error)", file: file, line: line)
        }
    }

    /// The ERROR that arrives before the node closes, and whether it closed.
    func closingError(of client: ProtocolTestClient) -> (Frame.ErrorReport?, Bool) {
        let error = try? client.take("a closing ERROR", timeout: 5) { if case .error = $0.frame { true } else { false } }
        let closed = client.waitForClose(timeout: 5)
        if case .error(let report)? = error?.frame { return (report, closed) }
        return (nil, closed)
    }

    func testStorageRequestsAreServedWithTheirAnswers() throws {
        let good = try storeBaseline()
        let helloOK = try XCTUnwrap(good.helloOK)
        XCTAssertGreaterThanOrEqual(helloOK.requestsInFlightMax, 1024, "gateways pipeline many requests")
        XCTAssertEqual(Int(helloOK.frameLengthMax), ProtocolConstants.frameLengthMax)
        // A retried group is a duplicate with the original seqs.
        let retry = try good.request(.storeAppend(Frame.StoreAppend(groups: [StoreAppendGroup(refuseIfBlocked: true, messages: [message(to: bob, from: alice, id: 2)])])))
        guard case .storeAppendOK(let dup) = retry, case .stored(let copies) = dup.results.first else { return XCTFail("\(retry)") }
        XCTAssertEqual(copies.map(\.seq), [2])
        XCTAssertEqual(copies.map(\.duplicate), [true])
        XCTAssertEqual(copies.first?.timestampMs, 1_700_000_000_002)
        XCTAssertEqual(try good.request(.storeLoginState(Frame.StoreLoginState(user: bob, device: 7, fullHistory: true))),
                       .loginOK(Frame.LoginOK(newestSeq: 3, confirmedSeq: 0, deviceCursor: 0, firstSeq: 1, epoch: 1)))
        XCTAssertEqual(try good.request(.storeAck(Frame.StoreAck(user: bob, device: 7, seq: 2))), .ackOK(Frame.AckOK(seq: 2)))
        XCTAssertEqual(try good.request(.storeCursor(Frame.StoreCursor(user: bob, device: 7))), .ackOK(Frame.AckOK(seq: 2)))
        XCTAssertEqual(try good.storeNewest(user: bob), Frame.StoreNewestOK(newestSeq: 3, firstSeq: 1, confirmedSeq: 2, epoch: 1))
        XCTAssertEqual(expectError(try good.request(.storeAck(Frame.StoreAck(user: bob, device: 7, seq: 9))))?.code, .badRequest)
        XCTAssertEqual(try good.request(.storeBlock(Frame.StoreBlock(user: bob, other: alice, blocked: true))), .blockOK(Frame.BlockOK(user: alice, blocked: true)))
        let blocked = try good.request(.storeAppend(Frame.StoreAppend(groups: [
            StoreAppendGroup(refuseIfBlocked: true, messages: [message(to: bob, from: alice, id: 9)]),
            StoreAppendGroup(refuseIfBlocked: false, messages: [message(to: alice, from: bob, id: 9, outgoing: true)]),
        ])))
        guard case .storeAppendOK(let mixed) = blocked, mixed.results.count == 2, case .failed(let report) = mixed.results[0],
              case .stored(let stored) = mixed.results[1] else { return XCTFail("\(blocked)") }
        XCTAssertEqual(report.code, .blocked)
        XCTAssertEqual(stored.map(\.seq), [4], "groups are independent")
        let truncated = try good.request(.storePull(Frame.StorePull(user: bob, after: 1, limit: 10, epoch: 99, frameLengthMax: UInt32(ProtocolConstants.frameLengthMax))))
        XCTAssertEqual(truncated, .truncated(Frame.Truncated(firstSeq: 1, newestSeq: 3, epoch: 1)))
        let stats = try good.storeStatistics()
        XCTAssertEqual(stats["users"], 2)
        XCTAssertEqual(stats["gateway_connections"], 1)
        XCTAssertEqual(stats["append_groups"], 6)
    }

    func testStorageFramesBeforeLoginAreNotLoggedInAndStoreNothing() throws {
        let good = try storeBaseline()
        let early = try server.client()
        let appendBeforeLogin = Frame.storeAppend(Frame.StoreAppend(groups: [StoreAppendGroup(refuseIfBlocked: false, messages: [message(to: bob, from: alice, id: 50)])]))
        XCTAssertEqual(expectError(try early.request(appendBeforeLogin))?.code, .notLoggedIn)
        XCTAssertEqual(expectError(try early.request(.storeStats(Frame.StoreStats())))?.code, .notLoggedIn)
        assertUnharmed(good)
    }

    func testWrongTokensAreAuthFailedAndClose() throws {
        let good = try storeBaseline()
        let forged = try server.client()
        var token = ServerProcess.token(user: 0, device: 0)
        token[20] ^= 0xFF
        XCTAssertEqual(expectError(try forged.login(user: 0, device: 0, token: token))?.code, .authFailed)
        XCTAssertTrue(forged.waitForClose(timeout: 5))
        // A client's own token does not make a gateway.
        let client = try server.client()
        XCTAssertEqual(expectError(try client.login(user: alice, device: 1, token: ServerProcess.token(user: alice, device: 1)))?.code, .authFailed)
        XCTAssertTrue(client.waitForClose(timeout: 5))
        let expired = try server.client()
        XCTAssertEqual(expectError(try expired.login(user: 0, device: 0, token: ServerProcess.token(user: 0, device: 0, validFor: -60)))?.code, .tokenExpired)
        XCTAssertTrue(expired.waitForClose(timeout: 5))
        assertUnharmed(good)
    }

    func testClientFramesOnTheStoragePortAreBadFrameAndClose() throws {
        let good = try storeBaseline()
        for frame in [Frame.send(Frame.Send(to: bob, clientMessageID: 1, body: [1])), .pull(Frame.Pull(after: 0, epoch: 0, limit: 10)),
                      .ack(Frame.Ack(seq: 1)), .block(Frame.Block(user: bob))] {
            let client = try server.storageClient()
            _ = try client.send(frame)
            let (error, closed) = closingError(of: client)
            XCTAssertEqual(error?.code, .badFrame, "\(frame.type)")
            XCTAssertTrue(closed, "\(frame.type)")
        }
        assertUnharmed(good)
    }

    func testGarbageAndOversizedFramesCloseOnlyTheirConnection() throws {
        let good = try storeBaseline()
        let garbage = try ProtocolTestClient.connect(port: server.port)
        try garbage.sendRaw(Array("GET / HTTP/1.1\r\nHost: example\r\n\r\n".utf8))
        let (garbageError, garbageClosed) = closingError(of: garbage)
        XCTAssertTrue([ErrorCode.frameTooLarge, .badFrame].contains(garbageError?.code), "\(String(describing: garbageError))")
        XCTAssertTrue(garbageClosed)
        let oversized = try server.storageClient()
        let declared = UInt32(ProtocolConstants.frameLengthMax + 1)
        try oversized.sendRaw(withUnsafeBytes(of: declared.littleEndian, Array.init) + [0x41, 0, 0, 0, 5, 0, 0, 0])
        let (oversizedError, oversizedClosed) = closingError(of: oversized)
        XCTAssertEqual(oversizedError?.code, .frameTooLarge)
        XCTAssertTrue(oversizedClosed)
        let seed = UInt64.random(in: 1 ... UInt64.max)
        var generator = SplitMix64(seed: seed)
        for round in 0 ..< 10 {
            let client = try round % 2 == 0 ? server.storageClient() : ProtocolTestClient.connect(port: server.port)
            try client.sendRaw((0 ..< Int(generator.next() % 512 + 1)).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            client.close()
        }
        XCTAssertTrue(server.isRunning, "seed \(seed)")
        assertUnharmed(good)
    }

    func testStoreAppendWithOutOfLimitValuesIsRefused() throws {
        let good = try storeBaseline()
        let one = rawStoreMessage(user: bob, sender: alice, clientMessageID: 60, bodyLength: 3)
        // Malformed bodies: the node closes the connection (the stream can no longer be trusted).
        let malformed: [(String, [UInt8])] = [
            ("no groups", [0, 0]),
            ("1025 groups", [0x01, 0x04] + Array(repeating: [0, 1] + one, count: 1025).flatMap { $0 }),
            ("a group of 0 messages", [1, 0, 0, 0]),
            ("a group of 9 messages", [1, 0, 0, 9] + Array(repeating: one, count: 9).flatMap { $0 }),
            ("a body above 64 KiB", [1, 0, 0, 1] + rawStoreMessage(user: bob, sender: alice, clientMessageID: 61, bodyLength: ProtocolConstants.messageBodySizeMax + 1)),
            ("an unknown group flag", [1, 0, 0x80, 1] + one),
            ("trailing bytes", [1, 0, 0, 1] + one + [0]),
        ]
        for (name, body) in malformed {
            let client = try server.storageClient()
            try client.sendRaw(rawFrame(type: FrameType.storeAppend.rawValue, requestID: 9, body: body))
            let (error, closed) = closingError(of: client)
            XCTAssertNotNil(error, name)
            XCTAssertTrue(error?.closing ?? false, name)
            XCTAssertTrue(closed, name)
        }
        // Well-formed but refused values: that group fails, the connection and other groups go on.
        let client = try server.storageClient()
        let reply = try client.request(.storeAppend(Frame.StoreAppend(groups: [
            StoreAppendGroup(refuseIfBlocked: false, messages: [message(to: 0, from: alice, id: 70)]),
            StoreAppendGroup(refuseIfBlocked: false, messages: [message(to: bob, from: 0, id: 71)]),
            StoreAppendGroup(refuseIfBlocked: false, messages: [message(to: bob, from: alice, id: 0)]),
        ])))
        guard case .storeAppendOK(let ok) = reply else { return XCTFail("\(reply)") }
        for result in ok.results {
            guard case .failed(let report) = result else { return XCTFail("\(result) stored") }
            XCTAssertEqual(report.code, .badRequest)
        }
        let tinyFrame = try client.request(.storePull(Frame.StorePull(user: bob, after: 0, limit: 10, epoch: 0, frameLengthMax: 10)))
        XCTAssertEqual(expectError(tinyFrame)?.code, .badRequest)
        XCTAssertEqual(expectError(try client.request(.storeNewest(Frame.StoreNewest(user: 0))))?.code, .badRequest)
        assertUnharmed(good)
        assertUnharmed(client)
    }
}
