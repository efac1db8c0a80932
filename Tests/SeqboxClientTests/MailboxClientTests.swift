import Foundation
@testable import SeqboxClient
import SeqboxProtocol
import Synchronization
import XCTest

/// `MailboxClient` on real sockets against the in-process `FakeServer`: delivery, state file
/// resume, lost replies, dead paths.
final class MailboxClientTests: XCTestCase {
    private var directory = ""
    private var server: FakeServer!
    private var clients: [MailboxClient] = []

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "seqbox-client-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        server = try FakeServer()
    }

    override func tearDownWithError() throws {
        for client in clients { client.stop() }
        clients.removeAll()
        server?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func configuration(user: UInt64, device: UInt64 = 1, port: UInt16? = nil) -> ClientConfiguration {
        var configuration = ClientConfiguration(host: "127.0.0.1", port: port ?? server.port, user: user, device: device, token: [1])
        configuration.replyTimeoutMs = 500
        configuration.connectTimeoutMs = 500
        configuration.reconnectBackoffInitialMs = 20
        configuration.reconnectBackoffMaxMs = 200
        configuration.fullHistory = true
        return configuration
    }

    private func startClient(user: UInt64, device: UInt64 = 1, port: UInt16? = nil, log: EventLog) throws -> MailboxClient {
        let client = try MailboxClient(configuration: configuration(user: user, device: device, port: port),
                                       stateFile: "\(directory)/\(user)-\(device).state", onEvent: log.handler)
        clients.append(client)
        try client.start()
        return client
    }

    private func stopClient(_ client: MailboxClient) {
        client.stop()
        clients.removeAll { $0 === client }
    }

    func testMessagesArriveOnceInSeqOrderAndEverySendGetsItsReceipt() throws {
        let aliceLog = EventLog(), bobLog = EventLog()
        let alice = try startClient(user: 1, log: aliceLog)
        _ = try startClient(user: 2, log: bobLog)
        var ids: [UInt64] = []
        for index in 0 ..< 50 { ids.append(try alice.send(to: 2, text: "m\(index)")) }
        bobLog.wait("50 messages at bob") { $0.messages.count >= 50 }
        aliceLog.wait("50 receipts") { $0.receipts.count >= 50 }
        XCTAssertEqual(bobLog.messages.map(\.seq), Array(1 ... 50))
        XCTAssertEqual(bobLog.messages.map(\.text), (0 ..< 50).map { "m\($0)" }, "one conversation keeps its order")
        XCTAssertEqual(aliceLog.receipts.map(\.clientMessageID), ids)
        XCTAssertEqual(aliceLog.receipts.compactMap(\.seq), Array(1 ... 50))
        XCTAssertEqual(alice.outboxCount, 0)
    }

    func testRestartedClientResumesFromItsStateFileWithoutRedelivery() throws {
        let firstLog = EventLog()
        let bob = try startClient(user: 2, log: firstLog)
        for index in 1 ... 10 { server.inject(from: 5, to: 2, text: "early \(index)") }
        firstLog.wait("10 messages") { $0.messages.count == 10 }
        firstLog.wait("held seq saved") { _ in bob.heldSeq == 10 }
        stopClient(bob)
        for index in 1 ... 5 { server.inject(from: 5, to: 2, text: "late \(index)") }
        let secondLog = EventLog()
        _ = try startClient(user: 2, log: secondLog)
        secondLog.wait("5 new messages") { $0.messages.count >= 5 }
        usleep(100_000)
        XCTAssertEqual(secondLog.messages.map(\.seq), Array(11 ... 15), "exactly the unseen ones")
        guard case .connected(let summary)? = secondLog.all.first(where: { if case .connected = $0 { true } else { false } }) else {
            return XCTFail("no login")
        }
        XCTAssertEqual(summary.heldSeq, 10)
    }

    func testLostSendOKIsSettledByTheOutgoingCopyAndStoredOnce() throws {
        server.storage.withLock { $0.dropAfterStoring = 1 }
        let log = EventLog()
        let alice = try startClient(user: 1, log: log)
        let id = try alice.send(to: 2, text: "once")
        log.wait("the receipt") { $0.receipts.count == 1 }
        XCTAssertEqual(log.receipts.first?.clientMessageID, id)
        XCTAssertNil(log.receipts.first?.seq, "known stored from the outgoing copy pulled in the sync, not from a SEND_OK")
        XCTAssertEqual(server.records(of: 2).count, 1, "stored once")
        XCTAssertGreaterThanOrEqual(log.disconnects.count, 1)
        XCTAssertEqual(alice.outboxCount, 0)
    }

    func testSilentServerIsDetectedByTheReplyTimeoutAndTheClientRecovers() throws {
        server.storage.withLock { $0.silent = true }
        let log = EventLog()
        let alice = try startClient(user: 1, log: log)
        log.wait("a reply timeout") { $0.disconnects.contains(.replyTimedOut) }
        server.storage.withLock { $0.silent = false }
        server.dropConnections()
        try alice.send(to: 2, text: "after the dead path")
        log.wait("the receipt") { $0.receipts.count == 1 }
        XCTAssertEqual(server.records(of: 2).map { String(decoding: $0.body, as: UTF8.self) }, ["after the dead path"])
    }

    func testMessagesQueuedWhileTheServerIsDownSurviveARestartAndAreStoredOnce() throws {
        let downPort = server.port
        server.stop()
        let firstLog = EventLog()
        let offline = try startClient(user: 1, port: downPort, log: firstLog)
        try offline.send(to: 2, text: "queued 1")
        try offline.send(to: 2, text: "queued 2")
        firstLog.wait("a failed connect") { !$0.disconnects.isEmpty }
        stopClient(offline)

        server = try FakeServer()
        let secondLog = EventLog()
        let online = try startClient(user: 1, log: secondLog)
        secondLog.wait("2 receipts") { $0.receipts.count == 2 }
        XCTAssertEqual(server.records(of: 2).map { String(decoding: $0.body, as: UTF8.self) }, ["queued 1", "queued 2"])
        XCTAssertEqual(online.outboxCount, 0)
    }

    func testHistoryReadsOldRecordsWithoutMovingTheHeldSeq() throws {
        for index in 1 ... 4 { server.inject(from: 5, to: 2, text: "h\(index)") }
        let log = EventLog()
        let bob = try startClient(user: 2, log: log)
        log.wait("sync") { $0.messages.count == 4 }
        let page = Mutex<HistoryPage?>(nil)
        try bob.history(after: 1, limit: 2) { result in page.withLock { $0 = try? result.get() } }
        log.wait("the history page") { _ in page.withLock { $0 } != nil }
        XCTAssertEqual(page.withLock { $0 }?.messages.map(\.seq), [2, 3])
        XCTAssertEqual(page.withLock { $0 }?.hasMore, true)
        XCTAssertEqual(bob.heldSeq, 4)
    }

    func testStopEndsWithStoppedAndTheStateFileCanBeReopened() throws {
        let log = EventLog()
        let client = try startClient(user: 1, log: log)
        log.wait("login") { $0.all.contains { if case .synced = $0 { true } else { false } } }
        stopClient(client)
        XCTAssertEqual(log.all.last, .stopped(.requested))
        XCTAssertNoThrow(try FileStateStore(path: "\(directory)/1-1.state"), "the lock is released")
    }
}
