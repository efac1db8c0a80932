#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxProtocol
import XCTest

/// A storage node killed with SIGKILL under load, then restarted on the same port and data
/// directory: its users get `unavailable` fast meanwhile, the other node's users keep working,
/// and afterwards every acknowledged message is stored exactly once, in order.
final class ClusterFailoverTests: EndToEndTestCase {
    /// The gateway's per-request timeout: "fast" below means well under it.
    static let storageTimeoutMs = 5_000
    /// How long the node stays dead.
    static let outageSeconds = 1.5

    override var serverArguments: [String] { ["--send-rate", "0", "--storage-timeout-ms", "\(Self.storageTimeoutMs)"] }

    override func makeServer(directory: String, arguments: [String]) throws -> ServerProcess {
        try ClusterLauncher.makeGateway(for: self, directory: directory, arguments: arguments)
    }

    func testKill9OfAStorageNodeUnderLoadLosesNothingAndOnlyItsUsersWaitBriefly() throws {
        let victim = 1
        let senders = ClusterLauncher.users(on: 0, count: 10, from: 7_000) + ClusterLauncher.users(on: 1, count: 10, from: 7_000)
        let recipients = ClusterLauncher.users(on: 0, count: 3, from: 8_000) + ClusterLauncher.users(on: 1, count: 3, from: 8_000)
        let onVictim = { (user: UInt64) in ClusterLauncher.node(of: user) == victim }
        // Mixed load: every sender writes to recipients on both nodes. Bystanders: users of the
        // surviving node writing among themselves only.
        let load = ClusterLoad(port: server.port, senders: senders, recipients: recipients)
        let bystanders = ClusterLauncher.users(on: 1 - victim, count: 4, from: 7_500)
        let bystanderRecipients = recipients.filter { !onVictim($0) }
        let bystanderLoad = ClusterLoad(port: server.port, senders: bystanders, recipients: bystanderRecipients)
        load.start()
        bystanderLoad.start()
        let warmDeadline = Date().addingTimeInterval(15)
        while (load.acknowledgedCount < 300 || bystanderLoad.acknowledgedCount < 100) && Date() < warmDeadline { usleep(5_000) }
        XCTAssertGreaterThanOrEqual(load.acknowledgedCount, 300, "the load did not start")

        // Kill the node while SENDs are in flight, keep it dead, restart it where it was.
        let node = supportingProcesses[victim]
        let killedAt = ClusterLoad.now()
        XCTAssertEqual(node.kill(signal: SIGKILL, timeout: 5), SIGKILL)
        usleep(useconds_t(Self.outageSeconds * 1e6))
        let restartedAt = ClusterLoad.now()
        let restarted = ServerProcess(dataDirectory: node.dataDirectory, arguments: node.arguments + ["--port", "\(node.port)"])
        supportingProcesses.append(restarted)
        try restarted.start()
        let recoveredAt = try waitUntilServed(user: ClusterLauncher.users(on: victim, count: 1, from: 9_000)[0], deadline: 15)
        usleep(500_000)
        let outcomes = load.stopAndWait()
        let bystanderOutcomes = bystanderLoad.stopAndWait()

        XCTAssertEqual(outcomes.count + bystanderOutcomes.count, senders.count + bystanders.count, "a sender did not finish")
        for (sender, outcome) in outcomes.merging(bystanderOutcomes, uniquingKeysWith: { first, _ in first }) {
            XCTAssertNil(outcome.failure, "sender \(sender)")
            XCTAssertEqual(outcome.unacknowledged, 0, "sender \(sender) has messages never acknowledged")
        }
        let acknowledged = outcomes.values.flatMap(\.acknowledged) + bystanderOutcomes.values.flatMap(\.acknowledged)
        let refusals = outcomes.values.flatMap(\.refusals) + bystanderOutcomes.values.flatMap(\.refusals)
        let duringOutage = acknowledged.filter { $0.at > killedAt + 0.2 && $0.at < restartedAt }
        print("cluster failover: acknowledged=\(acknowledged.count) during_outage=\(duringOutage.count) refusals=\(refusals.count) recovered_after_restart_s=\(recoveredAt - restartedAt)")

        // During the outage the other node's users kept working...
        XCTAssertGreaterThanOrEqual(duringOutage.filter { bystanders.contains($0.sender) }.count, 100, "the surviving node's users stalled")
        XCTAssertTrue(bystanderOutcomes.values.allSatisfy(\.refusals.isEmpty), "a bystander was refused")
        XCTAssertTrue(duringOutage.allSatisfy { !onVictim($0.sender) && !onVictim($0.recipient) }, "a dead node's user was served")
        // ...and the dead node's users were told `unavailable` fast, nobody else was refused.
        XCTAssertGreaterThan(refusals.count, 0)
        XCTAssertTrue(refusals.allSatisfy { $0.code == .unavailable }, "\(Set(refusals.map(\.code)))")
        XCTAssertTrue(refusals.allSatisfy { onVictim($0.sender) || onVictim($0.recipient) }, "a surviving node's user was refused")
        let slowest = refusals.map(\.latency).max() ?? 0
        XCTAssertLessThan(slowest, Double(Self.storageTimeoutMs) / 1000 / 5, "UNAVAILABLE took \(slowest) s (timeout \(Self.storageTimeoutMs) ms)")

        try assertStoredExactlyOnce(acknowledged, senders: senders + bystanders, recipients: recipients)
    }

    /// Sends from a fresh user on the same node as `user` until a SEND_OK, i.e. the gateway has
    /// reconnected to that node; returns when (monotonic seconds).
    func waitUntilServed(user: UInt64, deadline seconds: Double) throws -> Double {
        let peer = ClusterLauncher.users(on: ClusterLauncher.node(of: user), count: 1, from: user + 1)[0]
        let deadline = Date().addingTimeInterval(seconds)
        var attempt: UInt64 = 1
        while Date() < deadline {
            // LOGIN itself answers `unavailable` while the user's node is down.
            if let (client, _) = try? server.loggedIn(user: user),
               case .sendOK = try client.request(.send(Frame.Send(to: peer, clientMessageID: attempt, body: [1]))) {
                return ClusterLoad.now()
            }
            attempt += 1
            usleep(50_000)
        }
        throw ProtocolTestClientError.timeout("the restarted node to serve again")
    }

    /// Every mailbox holds exactly the acknowledged messages (every message sent was
    /// acknowledged in the end), each once at its acknowledged seq, both copies, seqs contiguous
    /// from 1, and the messages acknowledged at their first attempt in send order per pair.
    func assertStoredExactlyOnce(_ acknowledged: [ClusterLoad.Acknowledged], senders: [UInt64], recipients: [UInt64],
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        var stored: [String: [PullRecord]] = [:]
        var incomingCount = 0
        var outgoingCount = 0
        for user in recipients + senders {
            let (client, login) = try server.loggedIn(user: user, device: 99)
            let records = try client.pullAll(after: 0)
            XCTAssertEqual(records.map(\.seq), records.isEmpty ? [] : Array(1 ... UInt32(records.count)), "user \(user): seqs not contiguous", file: file, line: line)
            XCTAssertEqual(UInt32(records.count), login.newestSeq, file: file, line: line)
            for record in records { stored["\(user)/\(record.peer)/\(record.clientMessageID)/\(record.outgoing)", default: []].append(record) }
            incomingCount += records.filter { !$0.outgoing }.count
            outgoingCount += records.filter(\.outgoing).count
        }
        XCTAssertTrue(stored.values.allSatisfy { $0.count == 1 }, "a message is stored twice", file: file, line: line)
        XCTAssertEqual(Set(acknowledged.map { "\($0.sender)/\($0.clientMessageID)" }).count, acknowledged.count, "acknowledged twice", file: file, line: line)
        XCTAssertEqual(incomingCount, acknowledged.count, "stored messages that were never acknowledged", file: file, line: line)
        XCTAssertEqual(outgoingCount, acknowledged.count, "outgoing copies that were never acknowledged", file: file, line: line)
        for message in acknowledged {
            let received = stored["\(message.recipient)/\(message.sender)/\(message.clientMessageID)/false"] ?? []
            XCTAssertEqual(received.map(\.seq), [message.seq], "acknowledged \(message) not stored once at its seq", file: file, line: line)
            let copy = stored["\(message.sender)/\(message.recipient)/\(message.clientMessageID)/true"] ?? []
            XCTAssertEqual(copy.map(\.seq), [message.outgoingSeq], "outgoing copy of \(message)", file: file, line: line)
        }
        let firstAttempts = Dictionary(grouping: acknowledged.filter(\.firstAttempt)) { "\($0.sender)/\($0.recipient)" }
        for (pair, messages) in firstAttempts {
            let inSendOrder = messages.sorted { $0.clientMessageID < $1.clientMessageID }
            XCTAssertEqual(inSendOrder.map(\.seq), inSendOrder.map(\.seq).sorted(), "pair \(pair) stored out of send order", file: file, line: line)
        }
    }
}
