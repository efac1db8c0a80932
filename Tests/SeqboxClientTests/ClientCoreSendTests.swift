@testable import SeqboxClient
import SeqboxProtocol
import XCTest

/// The send half of the client state machine: one client message ID per message across every
/// retry, sync before resend, one SEND in flight per recipient, final refusals.
final class ClientCoreSendTests: XCTestCase {
    private func sendOK(_ seq: UInt32, outgoing: UInt32, duplicate: Bool = false) -> Frame {
        .sendOK(Frame.SendOK(seq: seq, outgoingSeq: outgoing, timestampMs: 77, duplicate: duplicate))
    }

    func testMessageIsWrittenAfterLoginAndLeavesTheOutboxOnSendOK() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        let id = try harness.core.enqueueSend(to: 1002, body: Array("hi".utf8))
        XCTAssertTrue(harness.core.stateDirty, "the outbox entry is saved before it can be sent")
        harness.connect()
        XCTAssertTrue(harness.sentFrames.isEmpty, "no SEND before LOGIN_OK")
        harness.reply(to: .hello, with: .helloOK(Frame.HelloOK()))
        XCTAssertTrue(harness.sentFrames.isEmpty, "no SEND before LOGIN_OK")
        harness.reply(to: .login, with: .loginOK(Frame.LoginOK(newestSeq: 0, confirmedSeq: 0, deviceCursor: 0, firstSeq: 1, epoch: 1)))
        XCTAssertEqual(harness.sentFrames, [Frame.Send(to: 1002, clientMessageID: id, body: Array("hi".utf8))])
        harness.reply(to: .send, with: sendOK(17, outgoing: 42))
        XCTAssertEqual(harness.receipts, [SendReceipt(clientMessageID: id, recipient: 1002, seq: 17, outgoingSeq: 42,
                                                      timestampMs: 77, duplicate: false)])
        XCTAssertTrue(harness.core.state.outbox.isEmpty)
    }

    func testSendOKOutgoingSeqAboveTheHeldSeqPullsTheCopyWithoutANotify() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 3))
        harness.logIn(newest: 3)
        _ = try harness.core.enqueueSend(to: 2, body: [1])
        harness.tick()
        XCTAssertTrue(harness.requests(.pull).isEmpty)
        harness.reply(to: .send, with: sendOK(9, outgoing: 4))
        XCTAssertEqual(harness.lastPullAfter, 3, "the server does not NOTIFY the sending connection of its own copy")
    }

    func testClientMessageIDsAreDistinctAndNeverZero() throws {
        var harness = CoreHarness()
        var ids: Set<UInt64> = []
        for _ in 0 ..< 100 { ids.insert(try harness.core.enqueueSend(to: 2, body: [])) }
        XCTAssertEqual(ids.count, 100)
        XCTAssertFalse(ids.contains(0))
        var state = CoreHarness.state(held: 0)
        state.nextClientMessageID = .max
        XCTAssertEqual(state.takeClientMessageID(), .max)
        XCTAssertEqual(state.takeClientMessageID(), 1, "the counter skips 0 when it wraps")
    }

    func testFreshStatesStartAtDifferentRandomIDs() throws {
        var first = CoreHarness.configuration()
        first.randomSeed = 1
        var second = CoreHarness.configuration()
        second.randomSeed = 2
        XCTAssertNotEqual(ClientCore(configuration: first, state: nil).state.nextClientMessageID,
                          ClientCore(configuration: second, state: nil).state.nextClientMessageID)
    }

    func testUnansweredSendIsResentWithTheSameIDAfterReconnectAndOnlyAfterTheSync() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        let id = try harness.core.enqueueSend(to: 1002, body: [1])
        harness.tick()
        XCTAssertEqual(harness.sentFrames.count, 1)
        harness.advance(1_000)
        XCTAssertEqual(harness.disconnects, [.replyTimedOut])
        XCTAssertEqual(harness.closes, 1)
        harness.logIn(newest: 3)
        XCTAssertEqual(harness.sentFrames.count, 1, "a message that went out before waits for the sync")
        harness.answerPull(CoreHarness.incoming(1 ... 3), newest: 3)
        XCTAssertEqual(harness.sentFrames.map(\.clientMessageID), [id, id])
        harness.reply(to: .send, with: sendOK(5, outgoing: 4, duplicate: true))
        XCTAssertEqual(harness.receipts.map(\.duplicate), [true])
        XCTAssertEqual(harness.core.statistics.sendsWritten, 2)
        XCTAssertEqual(harness.core.statistics.resends, 1)
        XCTAssertEqual(harness.core.statistics.logins, 2)
    }

    func testNeverSentMessageGoesOutDuringTheSync() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        let id = try harness.core.enqueueSend(to: 1002, body: [1])
        harness.logIn(newest: 50)
        XCTAssertEqual(harness.core.phase, .syncing)
        XCTAssertEqual(harness.sentFrames.map(\.clientMessageID), [id])
    }

    func testMessagesLoadedFromAStateFileWaitForTheSync() {
        let entry = OutboxEntry(clientMessageID: 900, recipient: 1002, body: [1])
        var harness = CoreHarness(state: CoreHarness.state(held: 0, outbox: [entry]))
        harness.logIn(newest: 2)
        XCTAssertTrue(harness.sentFrames.isEmpty, "it may have gone out before the restart")
        harness.answerPull(CoreHarness.incoming(1 ... 2), newest: 2)
        XCTAssertEqual(harness.sentFrames.map(\.clientMessageID), [900])
    }

    func testOwnOutgoingCopyPulledDuringTheSyncCompletesTheMessageWithoutAResend() {
        let entry = OutboxEntry(clientMessageID: 900, recipient: 1002, body: [1])
        var harness = CoreHarness(state: CoreHarness.state(held: 0, outbox: [entry]))
        harness.logIn(newest: 1)
        let copy = PullRecord(seq: 1, outgoing: true, peer: 1002, senderDevice: CoreHarness.device,
                              clientMessageID: 900, timestampMs: 5, body: [1])
        harness.answerPull([copy], newest: 1)
        XCTAssertEqual(harness.receipts, [SendReceipt(clientMessageID: 900, recipient: 1002, seq: nil, outgoingSeq: 1,
                                                      timestampMs: 5, duplicate: false)])
        XCTAssertTrue(harness.sentFrames.isEmpty, "stored already: never resent")
        XCTAssertTrue(harness.core.state.outbox.isEmpty)
    }

    func testOutgoingCopyFromAnotherDeviceWithTheSameIDDoesNotCompleteTheMessage() {
        let entry = OutboxEntry(clientMessageID: 900, recipient: 1002, body: [1])
        var harness = CoreHarness(state: CoreHarness.state(held: 0, outbox: [entry]))
        harness.logIn(newest: 1)
        let copy = PullRecord(seq: 1, outgoing: true, peer: 1002, senderDevice: 99, clientMessageID: 900, timestampMs: 5, body: [1])
        harness.answerPull([copy], newest: 1)
        XCTAssertTrue(harness.receipts.isEmpty)
        XCTAssertEqual(harness.sentFrames.map(\.clientMessageID), [900])
    }

    func testCopyPulledWhileTheSendIsInFlightWaitsForSendOKForTheRecipientSeq() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        let id = try harness.core.enqueueSend(to: 1002, body: [1])
        harness.tick()
        harness.push(.notify(Frame.Notify(newestSeq: 1, epoch: 1)))
        harness.answerPull([PullRecord(seq: 1, outgoing: true, peer: 1002, senderDevice: CoreHarness.device,
                                       clientMessageID: id, timestampMs: 5, body: [1])], newest: 1)
        XCTAssertTrue(harness.receipts.isEmpty)
        XCTAssertTrue(harness.core.state.outbox.isEmpty, "stored for sure: out of the saved outbox")
        harness.reply(to: .send, with: sendOK(8, outgoing: 1))
        XCTAssertEqual(harness.receipts.map(\.seq), [8])
    }

    func testCopyPulledWhileInFlightIsReportedWhenTheConnectionIsLost() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        let id = try harness.core.enqueueSend(to: 1002, body: [1])
        harness.tick()
        harness.push(.notify(Frame.Notify(newestSeq: 1, epoch: 1)))
        harness.answerPull([PullRecord(seq: 1, outgoing: true, peer: 1002, senderDevice: CoreHarness.device,
                                       clientMessageID: id, timestampMs: 5, body: [1])], newest: 1)
        harness.core.connectionLost(.connectionLost(errno: 104), now: harness.now)
        harness.drain()
        XCTAssertEqual(harness.receipts.map(\.outgoingSeq), [1])
        XCTAssertEqual(harness.receipts.map(\.seq), [nil])
        harness.logIn(newest: 1)
        XCTAssertEqual(harness.sentFrames.count, 1, "never resent")
    }

    func testOneSendInFlightPerRecipientKeepsEachConversationInOrder() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        let a1 = try harness.core.enqueueSend(to: 2, body: [1])
        let a2 = try harness.core.enqueueSend(to: 2, body: [2])
        let b1 = try harness.core.enqueueSend(to: 3, body: [3])
        harness.tick()
        XCTAssertEqual(harness.sentFrames.map(\.clientMessageID), [a1, b1])
        let first = harness.writes.first { ($0.frame.type == .send) }!
        harness.reply(requestID: first.requestID, with: sendOK(1, outgoing: 1))
        XCTAssertEqual(harness.sentFrames.map(\.clientMessageID), [a1, b1, a2])
    }

    func testRateLimitedSendIsRetriedAfterRetryAfterWithTheSameIDBeforeLaterMessages() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        let first = try harness.core.enqueueSend(to: 2, body: [1])
        _ = try harness.core.enqueueSend(to: 2, body: [2])
        harness.tick()
        harness.reply(to: .send, with: .error(Frame.ErrorReport(code: .rateLimited, retryAfterMs: 300)))
        harness.advance(299)
        XCTAssertEqual(harness.sentFrames.map(\.clientMessageID), [first], "the next message waits behind the refused one")
        XCTAssertEqual(harness.core.nextDeadline(), harness.now + 1)
        harness.advance(1)
        XCTAssertEqual(harness.sentFrames.map(\.clientMessageID), [first, first])
        XCTAssertTrue(harness.disconnects.isEmpty, "retried on the same connection")
    }

    func testFinalRefusalReportsTheFailureAndMovesOn() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        let first = try harness.core.enqueueSend(to: 2, body: [1])
        let second = try harness.core.enqueueSend(to: 2, body: [2])
        harness.tick()
        harness.reply(to: .send, with: .error(Frame.ErrorReport(code: .blocked, message: "blocked")))
        XCTAssertTrue(harness.events.contains(.sendFailed(SendFailure(clientMessageID: first, recipient: 2, code: .blocked, message: "blocked"))))
        XCTAssertEqual(harness.sentFrames.map(\.clientMessageID), [first, second])
        XCTAssertEqual(harness.core.state.outbox.map(\.clientMessageID), [second])
    }

    func testInternalErrorIsRetriedAFewTimesThenReported() throws {
        var configuration = CoreHarness.configuration()
        configuration.internalErrorRetriesMax = 2
        var harness = CoreHarness(configuration: configuration, state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0)
        _ = try harness.core.enqueueSend(to: 2, body: [1])
        harness.tick()
        for _ in 0 ..< 3 {
            harness.reply(to: .send, with: .error(Frame.ErrorReport(code: .internal, retryAfterMs: 10)))
            harness.advance(10)
        }
        XCTAssertEqual(harness.sentFrames.count, 3)
        XCTAssertTrue(harness.events.contains { if case .sendFailed = $0 { return true } else { return false } })
    }

    func testInvalidSendsAreRefusedBeforeTheyReachTheOutbox() {
        var configuration = CoreHarness.configuration()
        configuration.outboxMax = 1
        var harness = CoreHarness(configuration: configuration)
        XCTAssertThrowsError(try harness.core.enqueueSend(to: CoreHarness.user, body: [])) {
            XCTAssertEqual($0 as? ClientError, .invalidRecipient(CoreHarness.user))
        }
        XCTAssertThrowsError(try harness.core.enqueueSend(to: 0, body: []))
        XCTAssertThrowsError(try harness.core.enqueueSend(to: 2, body: [UInt8](repeating: 0, count: ProtocolConstants.messageBodySizeMax + 1)))
        XCTAssertNoThrow(try harness.core.enqueueSend(to: 2, body: []))
        XCTAssertThrowsError(try harness.core.enqueueSend(to: 2, body: [])) { XCTAssertEqual($0 as? ClientError, .outboxFull(limit: 1)) }
    }

    func testSendsStayWithinTheServersRequestsInFlight() throws {
        var harness = CoreHarness(state: CoreHarness.state(held: 0))
        harness.logIn(newest: 0, hello: Frame.HelloOK(requestsInFlightMax: 12))
        for recipient in UInt64(2) ..< 40 { _ = try harness.core.enqueueSend(to: recipient, body: []) }
        harness.tick()
        XCTAssertEqual(harness.sentFrames.count, 12 - ClientCore.requestsReservedForControl)
    }
}
