@testable import SeqboxClient
import SeqboxProtocol
import XCTest

/// The sync half of the client state machine: where it starts, what it pulls, what it delivers
/// (each seq once, in order), gaps and epochs, ACKs.
final class ClientCoreSyncTests: XCTestCase {
    func testConnectSendsHelloThenLoginRightBehindIt() {
        var harness = CoreHarness()
        harness.connect()
        XCTAssertEqual(harness.connects, 1)
        XCTAssertEqual(harness.writes.map(\.frame.type), [.hello, .login])
        guard case .login(let login) = harness.writes[1].frame else { return XCTFail("no LOGIN") }
        XCTAssertEqual(login.user, CoreHarness.user)
        XCTAssertEqual(login.device, CoreHarness.device)
        XCTAssertEqual(login.token, [1, 2, 3])
        XCTAssertNotEqual(harness.writes[0].requestID, harness.writes[1].requestID)
    }

    func testFreshDeviceStartsAtItsServerCursorAndPullsFromThere() {
        var harness = CoreHarness()
        harness.logIn(newest: 41, confirmed: 40, cursor: 40)
        XCTAssertEqual(harness.core.phase, .syncing)
        XCTAssertEqual(harness.lastPullAfter, 40)
        guard case .pull(let pull)? = harness.lastRequest(.pull)?.frame else { return XCTFail("no PULL") }
        XCTAssertEqual(pull.epoch, 1)
        XCTAssertEqual(harness.core.state.epoch, 1)
    }

    func testResumedStatePullsAfterItsHeldSeqNotTheServerCursor() {
        var harness = CoreHarness(state: CoreHarness.state(held: 35))
        harness.logIn(newest: 41, cursor: 30)
        XCTAssertEqual(harness.lastPullAfter, 35)
    }

    func testCaughtUpSyncDeliversInOrderThenAcksAndGoesLive() {
        var harness = CoreHarness(state: CoreHarness.state(held: 40))
        harness.logIn(newest: 43, cursor: 40)
        harness.answerPull(CoreHarness.incoming(41 ... 43), newest: 43)
        XCTAssertEqual(harness.deliveredSeqs, [41, 42, 43])
        XCTAssertEqual(harness.core.state.heldSeq, 43)
        XCTAssertEqual(harness.core.phase, .live)
        XCTAssertTrue(harness.events.contains(.synced(heldSeq: 43)))
        guard case .ack(let ack)? = harness.lastRequest(.ack)?.frame else { return XCTFail("no ACK") }
        XCTAssertEqual(ack.seq, 43)
        XCTAssertTrue(harness.core.stateDirty, "the held seq must be saved before the ACK leaves")
    }

    func testNothingToPullGoesLiveWithoutAPull() {
        var harness = CoreHarness(state: CoreHarness.state(held: 41))
        harness.logIn(newest: 41, cursor: 41)
        XCTAssertEqual(harness.core.phase, .live)
        XCTAssertTrue(harness.requests(.pull).isEmpty)
        XCTAssertTrue(harness.requests(.ack).isEmpty, "the server cursor already covers the held seq")
    }

    func testHasMoreKeepsPullingFromTheLastRecord() {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 6)
        harness.answerPull(CoreHarness.incoming(1 ... 3), newest: 6, hasMore: true)
        XCTAssertEqual(harness.lastPullAfter, 3)
        XCTAssertTrue(harness.requests(.ack).isEmpty, "no ACK before caught up on a short sync")
        harness.answerPull(CoreHarness.incoming(4 ... 6), newest: 6)
        XCTAssertEqual(harness.deliveredSeqs, Array(1 ... 6))
        XCTAssertEqual(harness.requests(.pull).count, 2)
    }

    func testLongSyncAcksEveryFewBatches() {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        let batches = ClientCore.ackEveryBatches + 1
        harness.logIn(newest: UInt32(batches))
        for seq in 1 ... UInt32(batches - 1) {
            harness.answerPull(CoreHarness.incoming(seq ... seq), newest: UInt32(batches), hasMore: true)
        }
        XCTAssertEqual(harness.requests(.ack).count, 1, "an ACK after \(ClientCore.ackEveryBatches) batches")
    }

    func testRecordsAtOrBelowTheHeldSeqAreNeverDeliveredTwice() {
        var harness = CoreHarness(state: CoreHarness.state(held: 40))
        harness.logIn(newest: 43)
        harness.answerPull(CoreHarness.incoming(39 ... 43), newest: 43)
        XCTAssertEqual(harness.deliveredSeqs, [41, 42, 43])
    }

    func testNotifyAboveHeldPullsOnceAndANotifyDuringThePullRaisesTheTarget() {
        var harness = CoreHarness(state: CoreHarness.state(held: 10))
        harness.logIn(newest: 10)
        XCTAssertEqual(harness.core.phase, .live)
        harness.push(.notify(Frame.Notify(newestSeq: 10, epoch: 1)))
        XCTAssertTrue(harness.requests(.pull).isEmpty, "nothing new: no pull")
        harness.push(.notify(Frame.Notify(newestSeq: 11, epoch: 1)))
        harness.push(.notify(Frame.Notify(newestSeq: 12, epoch: 1)))
        XCTAssertEqual(harness.requests(.pull).count, 1, "at most one PULL in flight")
        harness.answerPull(CoreHarness.incoming(11 ... 11), newest: 11)
        XCTAssertEqual(harness.requests(.pull).count, 2, "the raised target pulls again")
        XCTAssertEqual(harness.lastPullAfter, 11)
        harness.answerPull(CoreHarness.incoming(12 ... 12), newest: 12)
        XCTAssertEqual(harness.deliveredSeqs, [11, 12])
        XCTAssertEqual(harness.requests(.pull).count, 2)
    }

    func testTruncatedRangeIsReportedAsAnExpiredGapAndSyncContinuesAfterIt() {
        var harness = CoreHarness(state: CoreHarness.state(held: 40))
        harness.logIn(newest: 250, first: 1)
        harness.reply(to: .pull, with: .truncated(Frame.Truncated(firstSeq: 100, newestSeq: 250, epoch: 1)))
        XCTAssertTrue(harness.events.contains(.gap(SeqGap(first: 41, last: 99, reason: .expired))))
        XCTAssertEqual(harness.lastPullAfter, 99)
        XCTAssertEqual(harness.core.state.heldSeq, 99)
    }

    func testLoginBelowFirstRetainedSeqReportsTheExpiredGap() {
        var harness = CoreHarness(state: CoreHarness.state(held: 5))
        harness.logIn(newest: 30, first: 20)
        XCTAssertTrue(harness.events.contains(.gap(SeqGap(first: 6, last: 19, reason: .expired))))
        XCTAssertEqual(harness.lastPullAfter, 19)
    }

    func testEpochChangeAtLoginIsReportedAndSkippedSeqsAreReportedLost() {
        var harness = CoreHarness(state: CoreHarness.state(held: 10, epoch: 1))
        harness.logIn(newest: 14, epoch: 2)
        XCTAssertTrue(harness.events.contains(.epochChanged(from: 1, to: 2)))
        guard case .pull(let pull)? = harness.lastRequest(.pull)?.frame else { return XCTFail("no PULL") }
        XCTAssertEqual(pull.epoch, 2)
        harness.answerPull(CoreHarness.incoming(11 ... 11) + CoreHarness.incoming(14 ... 14), newest: 14, epoch: 2)
        XCTAssertEqual(harness.deliveredSeqs, [11, 14])
        let order = harness.events.filter {
            if case .messages = $0 { return true }
            if case .gap = $0 { return true }
            return false
        }
        XCTAssertEqual(order.count, 3)
        XCTAssertEqual(order[1], .gap(SeqGap(first: 12, last: 13, reason: .lost)), "the gap sits between the records it separates")
        XCTAssertEqual(harness.core.state.epoch, 2)
    }

    func testNotifyOfANewEpochLeadsToTruncatedAndTheNewEpoch() {
        var harness = CoreHarness(state: CoreHarness.state(held: 10))
        harness.logIn(newest: 10)
        harness.push(.notify(Frame.Notify(newestSeq: 10, epoch: 2)))
        XCTAssertEqual(harness.requests(.pull).count, 1, "a NOTIFY naming another epoch pulls")
        harness.reply(to: .pull, with: .truncated(Frame.Truncated(firstSeq: 1, newestSeq: 10, epoch: 2)))
        XCTAssertTrue(harness.events.contains(.epochChanged(from: 1, to: 2)))
        XCTAssertEqual(harness.core.state.epoch, 2)
        XCTAssertEqual(harness.core.state.heldSeq, 10)
    }

    func testServerBehindTheHeldSeqStopsTheClient() {
        var harness = CoreHarness(state: CoreHarness.state(held: 50))
        harness.logIn(newest: 20)
        XCTAssertEqual(harness.core.phase, .stopped)
        XCTAssertTrue(harness.events.contains(.stopped(.serverBehind(heldSeq: 50, newestSeq: 20, epoch: 1))))
        harness.advance(100_000)
        XCTAssertEqual(harness.connects, 1, "no reconnect after stopping")
    }

    func testHeartbeatPingsAfterTheIntervalOfSilence() {
        var configuration = CoreHarness.configuration()
        configuration.heartbeatIntervalMs = 500
        configuration.replyTimeoutMs = 10_000
        var harness = CoreHarness(configuration: configuration, state: CoreHarness.state(held: 5))
        harness.logIn(newest: 5)
        harness.advance(499)
        XCTAssertTrue(harness.requests(.ping).isEmpty)
        harness.advance(1)
        XCTAssertEqual(harness.requests(.ping).count, 1)
        harness.advance(600)
        XCTAssertEqual(harness.requests(.ping).count, 1, "one PING in flight at a time")
        guard case .ping(let ping)? = harness.lastRequest(.ping)?.frame else { return XCTFail("no PING") }
        harness.reply(to: .ping, with: .pong(Frame.Pong(nonce: ping.nonce)))
        XCTAssertEqual(harness.requests(.ping).count, 2, "silence since the last write: next PING")
    }

    func testHeartbeatNeverWaitsLongerThanTheServerInterval() {
        var configuration = CoreHarness.configuration()
        configuration.heartbeatIntervalMs = 60_000
        configuration.replyTimeoutMs = 100_000
        var harness = CoreHarness(configuration: configuration, state: CoreHarness.state(held: 5))
        harness.logIn(newest: 5, hello: Frame.HelloOK(heartbeatIntervalMs: 2_000))
        harness.advance(2_000)
        XCTAssertEqual(harness.requests(.ping).count, 1)
    }

    func testSyncOffClientNeitherPullsNorAcks() {
        var configuration = CoreHarness.configuration()
        configuration.syncsMailbox = false
        var harness = CoreHarness(configuration: configuration)
        harness.logIn(newest: 9)
        harness.push(.notify(Frame.Notify(newestSeq: 10, epoch: 1)))
        XCTAssertEqual(harness.core.phase, .live)
        XCTAssertTrue(harness.requests(.pull).isEmpty)
        XCTAssertTrue(harness.requests(.ack).isEmpty)
    }

    func testHistoryPullsWithEpochZeroAndLeavesTheHeldSeqAlone() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 5))
        harness.logIn(newest: 5)
        let id = try harness.core.enqueueHistory(after: 2, limit: 10)
        harness.tick()
        guard case .pull(let pull)? = harness.lastRequest(.pull)?.frame else { return XCTFail("no PULL") }
        XCTAssertEqual(pull.after, 2)
        XCTAssertEqual(pull.epoch, 0)
        harness.answerPull(CoreHarness.incoming(3 ... 5), newest: 5)
        XCTAssertEqual(try harness.historyResults[id]?.get().messages.map(\.seq), [3, 4, 5])
        XCTAssertTrue(harness.deliveredSeqs.isEmpty)
        XCTAssertEqual(harness.core.state.heldSeq, 5)
    }

    func testBlockIsRetriedOnTheNextConnectionUntilAnswered() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        try harness.core.enqueueBlock(user: 666, blocked: true)
        harness.tick()
        XCTAssertEqual(harness.requests(.block).count, 1)
        harness.advance(1_000)
        XCTAssertEqual(harness.disconnects, [.replyTimedOut])
        harness.logIn(newest: 0)
        XCTAssertEqual(harness.requests(.block).count, 2)
        harness.reply(to: .block, with: .blockOK(Frame.BlockOK(user: 666, blocked: true)))
        XCTAssertTrue(harness.events.contains(.blockChanged(user: 666, blocked: true)))
    }
}
