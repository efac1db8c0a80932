#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxProtocol
import XCTest

/// A gateway over two storage nodes as real processes: where mailboxes land, SENDs across nodes,
/// blocklists at the recipient's node, graceful shutdown of every role.
final class ClusterTopologyTests: EndToEndTestCase {
    override func makeServer(directory: String, arguments: [String]) throws -> ServerProcess {
        try ClusterLauncher.makeGateway(for: self, directory: directory, arguments: arguments)
    }

    var nodes: [ServerProcess] { supportingProcesses }

    func testEachUsersMailboxLivesOnTheNodeTheHashPicksAndBothNodesHoldUsers() throws {
        let users = Array(UInt64(5_001) ... 5_040)
        let (sender, _) = try server.loggedIn(user: 5_000)
        for user in users { try send(1, from: sender, to: user, firstID: user) }
        let storage = try nodes.map { try $0.storageClient() }
        var usersPerNode = [0, 0]
        for user in users {
            let home = ClusterLauncher.node(of: user)
            usersPerNode[home] += 1
            XCTAssertEqual(try storage[home].storeNewest(user: user).newestSeq, 1, "user \(user) on node \(home)")
            XCTAssertEqual(try storage[1 - home].storeNewest(user: user).newestSeq, 0, "user \(user) is not on node \(1 - home)")
        }
        XCTAssertTrue(usersPerNode.allSatisfy { $0 >= 10 }, "\(usersPerNode)")
        // The sender's outgoing copies live on its own node only.
        let senderHome = ClusterLauncher.node(of: 5_000)
        XCTAssertEqual(try storage[senderHome].storeNewest(user: 5_000).newestSeq, UInt32(users.count))
        let stats = try storage.map { try $0.storeStatistics() }
        for (index, values) in stats.enumerated() {
            let expected = usersPerNode[index] + (index == senderHome ? 1 : 0)
            XCTAssertEqual(values["users"], UInt64(expected), "node \(index): \(values)")
            XCTAssertEqual(values["gateway_connections"], 2, "node \(index), the gateway and this test: \(values)")
            XCTAssertGreaterThan(values["append_groups"] ?? 0, 0)
        }
    }

    func testSendBetweenUsersOnDifferentNodesIsStoredNotifiedAndPulled() throws {
        let alice = ClusterLauncher.users(on: 0, count: 1, from: 100)[0]
        let bob = ClusterLauncher.users(on: 1, count: 1, from: 100)[0]
        let (aliceClient, _) = try server.loggedIn(user: alice)
        let (aliceLaptop, _) = try server.loggedIn(user: alice, device: 2)
        let (bobClient, _) = try server.loggedIn(user: bob)
        let ok = try send(3, from: aliceClient, to: bob)
        XCTAssertEqual(ok.map(\.seq), [1, 2, 3])
        XCTAssertEqual(ok.map(\.outgoingSeq), [1, 2, 3])
        XCTAssertEqual(try bobClient.waitForNotify(atLeast: 3).newestSeq, 3)
        XCTAssertEqual(try bobClient.pullAll(after: 0).map(\.body), (0 ..< 3).map { Array("message \($0)".utf8) })
        XCTAssertEqual(try aliceLaptop.waitForNotify(atLeast: 3).newestSeq, 3)
        let copies = try aliceLaptop.pullAll(after: 0)
        XCTAssertEqual(copies.map(\.outgoing), [true, true, true])
        XCTAssertEqual(Set(copies.map(\.peer)), [bob])
        // And back: Bob answers, Alice's mailbox on the other node grows.
        let reply = try send(1, from: bobClient, to: alice, firstID: 50)
        XCTAssertEqual(reply[0].seq, 4)
        XCTAssertEqual(try aliceClient.waitForNotify(atLeast: 4).newestSeq, 4)
        XCTAssertEqual(try bobClient.request(.ack(Frame.Ack(seq: 3))), .ackOK(Frame.AckOK(seq: 3)))
        let (bobTablet, login) = try server.loggedIn(user: bob, device: 2)
        XCTAssertEqual(login.confirmedSeq, 3)
        XCTAssertEqual(try bobTablet.pullAll(after: login.deviceCursor).map(\.seq), [4])
    }

    func testABlocklistIsEnforcedWhereTheRecipientsMailboxLives() throws {
        let alice = ClusterLauncher.users(on: 0, count: 1, from: 200)[0]
        let bob = ClusterLauncher.users(on: 1, count: 1, from: 200)[0]
        let (aliceClient, _) = try server.loggedIn(user: alice)
        let (bobClient, _) = try server.loggedIn(user: bob)
        XCTAssertEqual(try bobClient.request(.block(Frame.Block(user: alice))), .blockOK(Frame.BlockOK(user: alice, blocked: true)))
        let reply = try aliceClient.request(.send(Frame.Send(to: bob, clientMessageID: 1, body: Array("hi".utf8))))
        XCTAssertEqual(expectError(reply)?.code, .blocked)
        let storage = try nodes.map { try $0.storageClient() }
        XCTAssertEqual(try storage[1].storeNewest(user: bob).newestSeq, 0, "nothing stored for Bob")
        XCTAssertEqual(try storage[0].storeNewest(user: alice).newestSeq, 0, "no outgoing copy for Alice")
        // The blocklist is Bob's node's: that node refuses the group, Alice's node knows nothing of it.
        let group = StoreAppendGroup(refuseIfBlocked: true, messages: [
            StoreMessage(user: bob, sender: alice, device: 1, clientMessageID: 2, timestampMs: 1, outgoing: false, body: [1]),
        ])
        let refused = try storage[1].request(.storeAppend(Frame.StoreAppend(groups: [group])))
        guard case .storeAppendOK(let answer) = refused, case .failed(let report) = answer.results.first else {
            return XCTFail("STORE_APPEND answered \(refused)")
        }
        XCTAssertEqual(report.code, .blocked)
        XCTAssertEqual(try bobClient.request(.unblock(Frame.Unblock(user: alice))), .blockOK(Frame.BlockOK(user: alice, blocked: false)))
        XCTAssertEqual(try send(1, from: aliceClient, to: bob, firstID: 3).map(\.seq), [1])
    }

    func testStorageRequestsOnTheGatewayAreBadFrameAndClose() throws {
        // The cluster's service login (user 0) is refused on a gateway; a logged-in app cannot speak the storage RPC either.
        let gatewayLogin = try server.client()
        XCTAssertEqual(expectError(try gatewayLogin.login(user: 0, device: 0, token: ServerProcess.token(user: 0, device: 0)))?.code, .authFailed)
        let (client, _) = try server.loggedIn(user: 400)
        _ = try client.send(.storeStats(Frame.StoreStats()))
        let error = try client.take("an ERROR", timeout: 5) { if case .error = $0.frame { true } else { false } }
        XCTAssertEqual(expectError(error.frame)?.code, .badFrame)
        XCTAssertTrue(client.waitForClose(timeout: 5))
        assertServerStillServes()
    }

    func testSIGTERMStopsEveryRoleGracefullyAndNothingIsLost() throws {
        let alice = ClusterLauncher.users(on: 0, count: 1, from: 300)[0]
        let bob = ClusterLauncher.users(on: 1, count: 1, from: 300)[0]
        let (aliceClient, _) = try server.loggedIn(user: alice)
        try send(20, from: aliceClient, to: bob)
        XCTAssertEqual(server.kill(signal: SIGTERM), 0, server.logText)
        XCTAssertEqual(try aliceClient.unsolicited(timeout: 5), .goodbye(Frame.Goodbye(reason: .serverShutdown, reconnectAfterMs: 5000)))
        for event in ["event=shutdown_begin signal=SIGTERM", "event=storage_clients_stopped", "event=shutdown_complete"] {
            XCTAssertTrue(server.logText.contains(event), "gateway log lacks \(event)")
        }
        for node in nodes {
            XCTAssertEqual(node.kill(signal: SIGTERM), 0, node.logText)
            XCTAssertTrue(node.logText.contains("event=store_closed"), node.logText)
        }
        // Everything back on the same ports and directories: the messages are all there.
        var restarted: [ServerProcess] = []
        for node in nodes {
            let again = ServerProcess(dataDirectory: node.dataDirectory, arguments: node.arguments + ["--port", "\(node.port)"])
            supportingProcesses.append(again)
            try again.start()
            restarted.append(again)
            let recovery = again.logText.split(separator: "\n").first { $0.contains("event=recovery") } ?? ""
            XCTAssertTrue(recovery.contains("clean=true"), String(recovery))
        }
        try server.start()
        let (bobClient, login) = try server.loggedIn(user: bob)
        XCTAssertEqual(login.newestSeq, 20)
        XCTAssertEqual(try bobClient.pullAll(after: 0).count, 20)
        let (aliceAgain, aliceLogin) = try server.loggedIn(user: alice, device: 2)
        XCTAssertEqual(aliceLogin.newestSeq, 20)
        XCTAssertEqual(try aliceAgain.pullAll(after: 0).filter(\.outgoing).count, 20)
    }
}
