#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxProtocol
import XCTest

/// kill -9 under load, and graceful shutdown on SIGTERM/SIGINT, against a real seqboxd.
final class EndToEndCrashTests: EndToEndTestCase {
    let senders: [UInt64] = [101, 102, 103, 104]
    let recipients: [UInt64] = [201, 202, 203]

    /// Runs load until at least `minimum` messages are acknowledged (or `seconds` pass).
    func runLoad(firstID: UInt64, minimum: Int, seconds: Double = 5) -> SendLoad {
        let load = SendLoad(port: server.port, senders: senders, recipients: recipients, firstID: firstID)
        load.start()
        let deadline = Date().addingTimeInterval(seconds)
        while load.acknowledgedCount < minimum && Date() < deadline { usleep(5_000) }
        usleep(100_000)
        return load
    }

    func testEveryAcknowledgedMessageSurvivesKill9ExactlyOnceAndInOrder() throws {
        var acknowledged: [SendLoad.Acknowledged] = []
        for round in 0 ..< 2 {
            let load = SendLoad(port: server.port, senders: senders, recipients: recipients, firstID: UInt64(round + 1) * 1_000_000)
            load.start()
            let deadline = Date().addingTimeInterval(10)
            while load.acknowledgedCount < 500 && Date() < deadline { usleep(2_000) }
            // Kill while sends are in flight.
            XCTAssertEqual(server.kill(signal: SIGKILL, timeout: 5), SIGKILL, "seqboxd did not die by the signal")
            let outcomes = load.wait(timeout: 30)
            XCTAssertEqual(outcomes.count, senders.count, "a sender did not finish")
            for (sender, outcome) in outcomes { XCTAssertNil(outcome.failure, "sender \(sender)") }
            let roundAcknowledged = outcomes.values.flatMap(\.acknowledged)
            XCTAssertGreaterThan(roundAcknowledged.count, 0)
            acknowledged += roundAcknowledged
            try server.start()
            XCTAssertTrue(server.logText.contains("event=recovery"), server.logText)
            try assertMailboxesHold(acknowledged, senders: senders, recipients: recipients)
        }
        assertServerStillServes()
    }

    func testSIGTERMFinishesInFlightSendsSaysGoodbyeAndClosesTheStoreCleanly() throws {
        let load = runLoad(firstID: 1, minimum: 300)
        let status = server.kill(signal: SIGTERM)
        XCTAssertEqual(status, 0, server.logText)
        let outcomes = load.wait(timeout: 30)
        XCTAssertEqual(outcomes.count, senders.count)
        for (sender, outcome) in outcomes {
            XCTAssertNil(outcome.failure, "sender \(sender)")
            XCTAssertEqual(outcome.goodbye?.reason, .serverShutdown, "sender \(sender) got no GOODBYE")
            XCTAssertTrue(outcome.refused.allSatisfy { $0 == .unavailable }, "sender \(sender): \(outcome.refused)")
        }
        let log = server.logText
        for event in ["event=shutdown_begin signal=SIGTERM", "event=store_closed", "event=shutdown_complete"] {
            XCTAssertTrue(log.contains(event), "missing \(event) in:\n\(log.suffix(3000))")
        }
        try server.start()
        let recovery = server.logText.split(separator: "\n").first { $0.contains("event=recovery") } ?? ""
        XCTAssertTrue(recovery.contains("clean=true"), String(recovery))
        XCTAssertFalse(recovery.contains("torn tail"), "a graceful shutdown leaves no torn tail: \(recovery)")
        try assertMailboxesHold(outcomes.values.flatMap(\.acknowledged), senders: senders, recipients: recipients)
    }

    func testSIGINTAlsoShutsDownGracefully() throws {
        let (client, _) = try server.loggedIn(user: 1)
        try send(3, from: client, to: 2)
        XCTAssertEqual(server.kill(signal: SIGINT), 0)
        XCTAssertEqual(try client.unsolicited(timeout: 5), .goodbye(Frame.Goodbye(reason: .serverShutdown, reconnectAfterMs: 5000)))
        XCTAssertTrue(server.logText.contains("event=shutdown_begin signal=SIGINT"))
        try server.start()
        let (reader, login) = try server.loggedIn(user: 2)
        XCTAssertEqual(login.newestSeq, 3)
        XCTAssertEqual(try reader.pullAll(after: 0).count, 3)
    }
}
