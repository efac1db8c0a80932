import SeqboxFormat
import SeqboxProtocol
import SeqboxStore
import XCTest
@testable import SeqboxServer

/// The receive path (PROTOCOL.md §5.7–5.12, §11).
final class ServicePullTests: XCTestCase {
    var harness: ServiceHarness!

    override func tearDown() { harness?.shutDown() }

    /// Stores `count` messages from user 2 to user 1 directly.
    func fill(_ count: Int, bodySize: Int = 4, batch: Int = 500) throws {
        let messages = (1 ... count).map {
            NewMessage(user: UserID(1), sender: UserID(2), device: DeviceID(1), clientMessageID: ClientMessageID(UInt64($0)),
                       timestampMs: 1_000, payload: Array(repeating: UInt8($0 % 251), count: bodySize))
        }
        for chunk in stride(from: 0, to: messages.count, by: batch) {
            _ = try harness.store.append(batch: Array(messages[chunk ..< min(chunk + batch, messages.count)]))
        }
    }

    func pull(after: UInt32, epoch: UInt32 = 0, limit: UInt16 = 100, on connection: FakeConnection) -> Frame? {
        harness.request(.pull(Frame.Pull(after: after, epoch: epoch, limit: limit)), on: connection)
    }

    func testPullReturnsContiguousRecordsAfterTheGivenSeqWithHasMore() throws {
        harness = try ServiceHarness()
        try fill(10)
        let (phone, _) = harness.logIn(user: 1, device: 1)
        guard case .pullOK(let page)? = pull(after: 3, limit: 4, on: phone) else { return XCTFail("no PULL_OK") }
        XCTAssertEqual(page.records.map(\.seq), [4, 5, 6, 7])
        XCTAssertEqual(page.newestSeq, 10)
        XCTAssertEqual(page.epoch, 1)
        XCTAssertTrue(page.hasMore)
        XCTAssertEqual(page.records.first?.peer, 2)
        XCTAssertEqual(page.records.first?.clientMessageID, 4)
        guard case .pullOK(let rest)? = pull(after: 7, on: phone) else { return XCTFail("no PULL_OK") }
        XCTAssertEqual(rest.records.map(\.seq), [8, 9, 10])
        XCTAssertFalse(rest.hasMore)
    }

    func testRetriedPullReturnsTheSameRecords() throws {
        harness = try ServiceHarness()
        try fill(5)
        let (phone, _) = harness.logIn(user: 1, device: 1)
        let first = pull(after: 1, on: phone)
        XCTAssertNotNil(first)
        XCTAssertEqual(pull(after: 1, on: phone), first)
    }

    func testPullLimitIsClampedToTheServersMaximum() throws {
        harness = try ServiceHarness { $0.pullLimitMax = 8 }
        try fill(20)
        let (phone, _) = harness.logIn(user: 1, device: 1)
        guard case .pullOK(let page)? = pull(after: 0, limit: 1000, on: phone) else { return XCTFail("no PULL_OK") }
        XCTAssertEqual(page.records.count, 8)
        XCTAssertTrue(page.hasMore)
    }

    func testPullOKStaysWithinTheFrameLimitAndAlwaysMakesProgress() throws {
        let frameLimit = FrameLimits.frameLengthNeeded(messageBodySizeMax: ProtocolConstants.messageBodySizeMax)
        harness = try ServiceHarness { $0.pullFrameLengthMax = frameLimit }
        try fill(5, bodySize: ProtocolConstants.messageBodySizeMax)
        let (phone, _) = harness.logIn(user: 1, device: 1)
        var after: UInt32 = 0
        for _ in 0 ..< 10 where after < 5 {
            guard case .pullOK(let page)? = pull(after: after, on: phone) else { return XCTFail("no PULL_OK") }
            XCTAssertEqual(page.records.count, 1)
            XCTAssertLessThanOrEqual(FrameEncoder.encodedSize(of: .pullOK(page)) - 4, frameLimit)
            after = page.records.last!.seq
        }
        XCTAssertEqual(after, 5)
    }

    func testLimitZeroAnswersOnlyTheHead() throws {
        harness = try ServiceHarness()
        try fill(3)
        let (phone, _) = harness.logIn(user: 1, device: 1)
        XCTAssertEqual(pull(after: 1, limit: 0, on: phone), .pullOK(Frame.PullOK(newestSeq: 3, epoch: 1, hasMore: true, records: [])))
    }

    func testPullBeyondTheNewestSeqIsBadRequest() throws {
        harness = try ServiceHarness()
        try fill(3)
        let (phone, _) = harness.logIn(user: 1, device: 1)
        XCTAssertEqual(errorCode(pull(after: 4, on: phone)), .badRequest)
        XCTAssertEqual(pull(after: 3, on: phone), .pullOK(Frame.PullOK(newestSeq: 3, epoch: 1, hasMore: false, records: [])))
    }

    func testPullNamingAnotherEpochIsTruncatedWithTheCurrentOne() throws {
        harness = try ServiceHarness()
        try fill(3)
        let (phone, _) = harness.logIn(user: 1, device: 1)
        XCTAssertEqual(pull(after: 1, epoch: 7, on: phone), .truncated(Frame.Truncated(firstSeq: 1, newestSeq: 3, epoch: 1)))
        guard case .pullOK? = pull(after: 1, epoch: 1, on: phone) else { return XCTFail("current epoch refused") }
    }

    func testPullBelowTheRetainedRangeIsTruncated() throws {
        var options = StoreOptions()
        options.segmentBytes = 8192
        options.retention = RetentionPolicy(maxBytes: 16_384)
        harness = try ServiceHarness(storeOptions: options)
        try fill(300, bodySize: 64, batch: 10)
        try harness.store.applyRetention()
        let info = harness.store.mailboxInfo(user: UserID(1))
        XCTAssertGreaterThan(info.firstAvailable.rawValue, 1, "retention deleted nothing")
        let (phone, _) = harness.logIn(user: 1, device: 1)
        XCTAssertEqual(pull(after: 0, on: phone),
                       .truncated(Frame.Truncated(firstSeq: info.firstAvailable.rawValue, newestSeq: 300, epoch: 1)))
        guard case .pullOK(let page)? = pull(after: info.firstAvailable.rawValue - 1, on: phone) else { return XCTFail("no PULL_OK") }
        XCTAssertEqual(page.records.first?.seq, info.firstAvailable.rawValue)
    }

    func testAckMovesTheCursorForwardOnlyAndRefusesSeqsBeyondTheNewest() throws {
        harness = try ServiceHarness()
        try fill(5)
        let (phone, _) = harness.logIn(user: 1, device: 1)
        XCTAssertEqual(harness.request(.ack(Frame.Ack(seq: 4)), on: phone), .ackOK(Frame.AckOK(seq: 4)))
        XCTAssertEqual(harness.request(.ack(Frame.Ack(seq: 2)), on: phone), .ackOK(Frame.AckOK(seq: 4)))
        XCTAssertEqual(errorCode(harness.request(.ack(Frame.Ack(seq: 6)), on: phone)), .badRequest)
        XCTAssertEqual(harness.store.cursor(user: UserID(1), device: DeviceID(1)), Seq(4))
    }
}
