import SeqboxFormat
import SeqboxProtocol
import SeqboxStore
import XCTest
@testable import SeqboxServer

/// The push path (PROTOCOL.md §5.10): NOTIFY to every live connection, coalesced; offline push.
final class ServicePushTests: XCTestCase {
    var harness: ServiceHarness!

    override func setUpWithError() throws { harness = try ServiceHarness() }
    override func tearDown() { harness.shutDown() }

    func testEveryLiveDeviceOfTheRecipientIsNotifiedOnceTheMessageIsDurable() {
        let (alice, _) = harness.logIn(user: 1, device: 1)
        let (bobPhone, _) = harness.logIn(user: 2, device: 1)
        let (bobTablet, _) = harness.logIn(user: 2, device: 2)
        guard case .sendOK(let ok)? = harness.send("hi", to: 2, id: 1, on: alice) else { return XCTFail("no SEND_OK") }
        XCTAssertEqual(harness.waitForNotify(atLeast: ok.seq, on: bobPhone), Frame.Notify(newestSeq: 1, epoch: 1))
        XCTAssertEqual(harness.waitForNotify(atLeast: ok.seq, on: bobTablet), Frame.Notify(newestSeq: 1, epoch: 1))
        XCTAssertTrue(harness.offline.recorded.isEmpty)
    }

    func testSendersOtherDevicesAreNotifiedOfTheOutgoingCopyButNotTheSendingOne() {
        let (phone, _) = harness.logIn(user: 1, device: 1)
        let (tablet, _) = harness.logIn(user: 1, device: 2)
        guard case .sendOK(let ok)? = harness.send("hi", to: 2, id: 1, on: phone) else { return XCTFail("no SEND_OK") }
        XCTAssertEqual(harness.waitForNotify(atLeast: ok.outgoingSeq, on: tablet)?.newestSeq, 1)
        // The sending connection learns the seq from SEND_OK; give a stray NOTIFY time to show.
        usleep(50_000)
        XCTAssertTrue(harness.notifies(on: phone).isEmpty)
    }

    func testOfflineRecipientGoesToTheOfflinePushGateway() {
        let (alice, _) = harness.logIn(user: 1, device: 1)
        _ = harness.send("hi", to: 2, id: 1, on: alice)
        _ = harness.send("again", to: 2, id: 2, on: alice)
        XCTAssertEqual(harness.offline.recorded.map(\.user), [UserID(2), UserID(2)])
        XCTAssertEqual(harness.offline.recorded.map(\.seq), [Seq(1), Seq(2)])
    }

    func testDuplicateSendNotifiesNobody() {
        let (alice, _) = harness.logIn(user: 1, device: 1)
        _ = harness.send("hi", to: 2, id: 1, on: alice)
        let (bob, _) = harness.logIn(user: 2, device: 1)
        _ = harness.send("hi", to: 2, id: 1, on: alice)
        usleep(50_000)
        XCTAssertTrue(harness.notifies(on: bob).isEmpty)
    }

    func testNotifiesCoalesceWhileTheLoopIsBusyAndCarryTheNewestSeq() {
        let (alice, _) = harness.logIn(user: 1, device: 1)
        let (bob, _) = harness.logIn(user: 2, device: 1)
        // Hold Bob's loop so the notifies pile up behind it.
        bob.loop.suspend()
        let ids = (1 ... 50).map { harness.deliver(.send(Frame.Send(to: 2, clientMessageID: UInt64($0), body: [1])), on: alice) }
        for id in ids { XCTAssertNotNil(harness.reply(to: id, on: alice)) }
        bob.loop.resume()
        XCTAssertEqual(harness.waitForNotify(atLeast: 50, on: bob)?.newestSeq, 50)
        bob.loop.sync {}
        let notifies = harness.notifies(on: bob)
        XCTAssertEqual(notifies.count, 1, "one pending NOTIFY per connection: \(notifies.map(\.newestSeq))")
    }

    func testNotifiesNeverGoBackwards() {
        let (alice, _) = harness.logIn(user: 1, device: 1)
        let (bob, _) = harness.logIn(user: 2, device: 1)
        let ids = (1 ... 300).map { harness.deliver(.send(Frame.Send(to: 2, clientMessageID: UInt64($0), body: [1])), on: alice) }
        for id in ids { XCTAssertNotNil(harness.reply(to: id, on: alice)) }
        XCTAssertEqual(harness.waitForNotify(atLeast: 300, on: bob)?.newestSeq, 300)
        let seqs = harness.notifies(on: bob).map(\.newestSeq)
        XCTAssertEqual(seqs, seqs.sorted())
        XCTAssertLessThanOrEqual(seqs.count, 300)
    }
}
