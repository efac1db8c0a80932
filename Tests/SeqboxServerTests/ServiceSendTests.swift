import SeqboxFormat
import SeqboxProtocol
import SeqboxStore
import XCTest
@testable import SeqboxServer

/// The send path (PROTOCOL.md §5.5–5.6): checks, idempotency, the two copies.
final class ServiceSendTests: XCTestCase {
    var harness: ServiceHarness!

    override func tearDown() { harness?.shutDown() }

    func makeHarness(configure: (inout ServiceConfiguration) -> Void = { _ in }, filter: any ContentFilter = AcceptAllContentFilter()) throws {
        harness = try ServiceHarness(configure: configure, contentFilter: filter)
    }

    func testSendStoresRecipientCopyAndOutgoingCopyAndAnswersWithBothSeqs() throws {
        try makeHarness()
        let (alice, _) = harness.logIn(user: 1001, device: 7)
        let (_, _) = harness.logIn(user: 1002, device: 3)
        guard case .sendOK(let ok)? = harness.send("hi", to: 1002, id: 5001, on: alice) else { return XCTFail("no SEND_OK") }
        XCTAssertEqual(ok.seq, 1)
        XCTAssertEqual(ok.outgoingSeq, 1)
        XCTAssertFalse(ok.duplicate)
        let incoming = try harness.store.read(user: UserID(1002), after: .zero, limit: 10).messages
        XCTAssertEqual(incoming.map(\.sender), [UserID(1001)])
        XCTAssertEqual(incoming.first?.outgoing, false)
        XCTAssertEqual(incoming.first?.timestampMs, ok.timestampMs)
        let outgoing = try harness.store.read(user: UserID(1001), after: .zero, limit: 10).messages
        XCTAssertEqual(outgoing.map(\.sender), [UserID(1002)], "the outgoing copy names the peer")
        XCTAssertEqual(outgoing.first?.outgoing, true)
        XCTAssertEqual(outgoing.first?.payload, Array("hi".utf8))
    }

    func testRetriedSendReturnsTheOriginalSeqsAndStoresNothing() throws {
        try makeHarness()
        let (alice, _) = harness.logIn(user: 1, device: 1)
        guard case .sendOK(let first)? = harness.send("once", to: 2, id: 42, on: alice) else { return XCTFail("no SEND_OK") }
        _ = harness.send("other", to: 2, id: 43, on: alice)
        guard case .sendOK(let retried)? = harness.send("once", to: 2, id: 42, on: alice) else { return XCTFail("no SEND_OK") }
        XCTAssertTrue(retried.duplicate)
        XCTAssertEqual(retried.seq, first.seq)
        XCTAssertEqual(retried.outgoingSeq, first.outgoingSeq)
        XCTAssertEqual(retried.timestampMs, first.timestampMs)
        XCTAssertEqual(harness.store.newestSeq(user: UserID(2)), Seq(2))
        XCTAssertEqual(harness.store.newestSeq(user: UserID(1)), Seq(2))
    }

    func testSameClientMessageIDFromAnotherDeviceIsANewMessage() throws {
        try makeHarness()
        let (phone, _) = harness.logIn(user: 1, device: 1)
        let (tablet, _) = harness.logIn(user: 1, device: 2)
        guard case .sendOK(let a)? = harness.send("x", to: 2, id: 9, on: phone),
              case .sendOK(let b)? = harness.send("x", to: 2, id: 9, on: tablet) else { return XCTFail("no SEND_OK") }
        XCTAssertFalse(b.duplicate)
        XCTAssertEqual(b.seq, a.seq + 1)
    }

    func testSendToNobodyToOneselfOrWithoutIDIsBadRequest() throws {
        try makeHarness()
        let (alice, _) = harness.logIn(user: 1, device: 1)
        XCTAssertEqual(errorCode(harness.send("x", to: 0, id: 1, on: alice)), .badRequest)
        XCTAssertEqual(errorCode(harness.send("x", to: 1, id: 1, on: alice)), .badRequest)
        XCTAssertEqual(errorCode(harness.send("x", to: 2, id: 0, on: alice)), .badRequest)
        XCTAssertEqual(harness.store.newestSeq(user: UserID(1)), .zero)
        XCTAssertNil(alice.closeReason)
    }

    func testBodyAboveTheConfiguredLimitIsPayloadTooLarge() throws {
        try makeHarness { $0.messageBodySizeMax = 16 }
        let (alice, _) = harness.logIn(user: 1, device: 1)
        XCTAssertEqual(errorCode(harness.send(String(repeating: "a", count: 17), to: 2, id: 1, on: alice)), .payloadTooLarge)
        guard case .sendOK? = harness.send(String(repeating: "a", count: 16), to: 2, id: 2, on: alice) else { return XCTFail("no SEND_OK") }
    }

    func testSenderOverItsRateIsRateLimitedWithRetryAfter() throws {
        try makeHarness { $0.sendRate = RateLimit(perSecond: 1, burst: 3) }
        let (alice, _) = harness.logIn(user: 1, device: 1)
        let (aliceTablet, _) = harness.logIn(user: 1, device: 2)
        let (bob, _) = harness.logIn(user: 3, device: 1)
        for id in 1 ... 3 {
            guard case .sendOK? = harness.send("m", to: 2, id: UInt64(id), on: alice) else { return XCTFail("send \(id) refused") }
        }
        guard case .error(let report)? = harness.send("m", to: 2, id: 4, on: aliceTablet) else { return XCTFail("not limited") }
        XCTAssertEqual(report.code, .rateLimited)
        XCTAssertGreaterThan(report.retryAfterMs, 0)
        XCTAssertLessThanOrEqual(report.retryAfterMs, 1000)
        XCTAssertFalse(report.closing)
        guard case .sendOK? = harness.send("m", to: 2, id: 1, on: bob) else { return XCTFail("another sender was limited") }
    }

    func testBlockedSenderIsRefusedUntilUnblocked() throws {
        try makeHarness()
        let (alice, _) = harness.logIn(user: 1, device: 1)
        let (bob, _) = harness.logIn(user: 2, device: 1)
        XCTAssertEqual(harness.request(.block(Frame.Block(user: 1)), on: bob), .blockOK(Frame.BlockOK(user: 1, blocked: true)))
        XCTAssertEqual(errorCode(harness.send("hi", to: 2, id: 1, on: alice)), .blocked)
        XCTAssertEqual(harness.store.newestSeq(user: UserID(2)), .zero)
        XCTAssertEqual(harness.store.newestSeq(user: UserID(1)), .zero, "no outgoing copy either")
        XCTAssertEqual(harness.request(.unblock(Frame.Unblock(user: 1)), on: bob), .blockOK(Frame.BlockOK(user: 1, blocked: false)))
        guard case .sendOK? = harness.send("hi", to: 2, id: 1, on: alice) else { return XCTFail("still refused") }
    }

    func testBlockingNobodyOrOneselfIsBadRequest() throws {
        try makeHarness()
        let (bob, _) = harness.logIn(user: 2, device: 1)
        XCTAssertEqual(errorCode(harness.request(.block(Frame.Block(user: 0)), on: bob)), .badRequest)
        XCTAssertEqual(errorCode(harness.request(.block(Frame.Block(user: 2)), on: bob)), .badRequest)
    }

    func testContentFilterRefusalStoresNothing() throws {
        try makeHarness(filter: try KeywordContentFilter(keywords: ["spam"]))
        let (alice, _) = harness.logIn(user: 1, device: 1)
        XCTAssertEqual(errorCode(harness.send("buy SPAM now", to: 2, id: 1, on: alice)), .contentRejected)
        XCTAssertEqual(harness.store.newestSeq(user: UserID(2)), .zero)
        guard case .sendOK? = harness.send("lunch?", to: 2, id: 2, on: alice) else { return XCTFail("clean message refused") }
    }

    func testSendsOfOneConnectionAreStoredInOrder() throws {
        try makeHarness()
        let (alice, _) = harness.logIn(user: 1, device: 1)
        let ids = (1 ... 200).map { harness.deliver(.send(Frame.Send(to: 2, clientMessageID: UInt64($0), body: [UInt8($0 % 256)])), on: alice) }
        for id in ids { XCTAssertNotNil(harness.reply(to: id, on: alice)) }
        let stored = try harness.store.read(user: UserID(2), after: .zero, limit: 1000).messages
        XCTAssertEqual(stored.map(\.clientMessageID.rawValue), (1 ... 200).map { UInt64($0) })
        XCTAssertEqual(stored.map(\.seq.rawValue), Array(1 ... 200))
    }

    func testWritesAreRefusedAsUnavailableOnceShutdownBegins() throws {
        try makeHarness()
        let (alice, _) = harness.logIn(user: 1, device: 1)
        harness.service.beginShutdown()
        guard case .error(let report)? = harness.send("late", to: 2, id: 1, on: alice) else { return XCTFail("accepted") }
        XCTAssertEqual(report.code, .unavailable)
        XCTAssertGreaterThan(report.retryAfterMs, 0)
        XCTAssertTrue(harness.service.waitForWritesInFlight(timeoutMs: 1000))
        guard case .pullOK? = harness.request(.pull(Frame.Pull(after: 0, epoch: 0, limit: 1)), on: alice) else { return XCTFail("reads stopped") }
    }
}
