import Foundation
import SeqboxProtocol
import XCTest

/// The design's sync scenarios, against a real seqboxd over TCP.
class EndToEndScenarioTests: EndToEndTestCase {
    var alice: UInt64 { 1001 }
    var bob: UInt64 { 1002 }

    func testClientHolding100PullsTo150ThenANotifyLeadsItToPull151To200() throws {
        let (sender, _) = try server.loggedIn(user: alice)
        try send(150, from: sender, to: bob)
        let (phone, login) = try server.loggedIn(user: bob)
        XCTAssertEqual(login.newestSeq, 150)

        // The client holds 100 and catches up to the server's 150.
        let caughtUp = try phone.pullAll(after: 100, epoch: login.epoch)
        XCTAssertEqual(caughtUp.map(\.seq), Array(101 ... 150))
        var held = caughtUp.last!.seq
        XCTAssertEqual(held, 150)

        // The server advances to 200; NOTIFYs lead the client to pull exactly 151–200.
        try send(50, from: sender, to: bob, firstID: 151)
        var pulled: [PullRecord] = []
        let deadline = Date().addingTimeInterval(10)
        while held < 200 && Date() < deadline {
            let notify = try phone.waitForNotify(atLeast: held + 1)
            XCTAssertEqual(notify.epoch, login.epoch)
            let records = try phone.pullAll(after: held, epoch: login.epoch)
            pulled += records
            held = records.last?.seq ?? held
        }
        XCTAssertEqual(pulled.map(\.seq), Array(151 ... 200))
        XCTAssertEqual(pulled.map(\.clientMessageID), Array(151 ... 200).map(UInt64.init))
        XCTAssertTrue(pulled.allSatisfy { $0.peer == alice && !$0.outgoing })
    }

    func testSecondDeviceOfTheSameUserReceivesOnlyTheUnseenRange() throws {
        let (sender, _) = try server.loggedIn(user: alice)
        try send(150, from: sender, to: bob)
        let (phone, _) = try server.loggedIn(user: bob, device: 1)
        XCTAssertEqual(try phone.pullAll(after: 0).count, 150)
        XCTAssertEqual(try phone.request(.ack(Frame.Ack(seq: 150))), .ackOK(Frame.AckOK(seq: 150)))
        try send(50, from: sender, to: bob, firstID: 151)

        let (tablet, login) = try server.loggedIn(user: bob, device: 2)
        XCTAssertEqual(login.deviceCursor, 150, "a new device starts at the user's confirmed seq")
        XCTAssertEqual(login.confirmedSeq, 150)
        XCTAssertEqual(login.newestSeq, 200)
        XCTAssertEqual(try tablet.pullAll(after: login.deviceCursor).map(\.seq), Array(151 ... 200))
    }

    func testDroppedPullResponseIsRetriedWithTheSameSeqAndYieldsTheSameRange() throws {
        let (sender, _) = try server.loggedIn(user: alice)
        try send(120, from: sender, to: bob)
        let (phone, _) = try server.loggedIn(user: bob)
        let first = try phone.request(.pull(Frame.Pull(after: 100, epoch: 0, limit: 50)))
        guard case .pullOK(let dropped) = first else { return XCTFail("PULL answered \(first)") }
        // The client never stored that answer (the app died, the reply was lost): it still
        // holds 100 and, after reconnecting, asks again with the same seq.
        phone.close()
        let (again, _) = try server.loggedIn(user: bob)
        let retried = try again.request(.pull(Frame.Pull(after: 100, epoch: 0, limit: 50)))
        guard case .pullOK(let page) = retried else { return XCTFail("PULL answered \(retried)") }
        XCTAssertEqual(page.records, dropped.records)
        XCTAssertEqual(page.records.map(\.seq), Array(101 ... 120))
    }

    func testRetriedSendReturnsTheSameSeqAndStoresNoDuplicate() throws {
        let (phone, _) = try server.loggedIn(user: alice)
        try send(3, from: phone, to: bob)
        // The SEND_OK is lost with the connection: the client resends the same ID.
        _ = try phone.send(.send(Frame.Send(to: bob, clientMessageID: 77, body: Array("only once".utf8))))
        phone.close()
        let (retrying, _) = try server.loggedIn(user: alice)
        var replies: [Frame.SendOK] = []
        for _ in 0 ..< 3 {
            let reply = try retrying.request(.send(Frame.Send(to: bob, clientMessageID: 77, body: Array("only once".utf8))))
            guard case .sendOK(let ok) = reply else { return XCTFail("SEND answered \(reply)") }
            replies.append(ok)
        }
        XCTAssertEqual(Set(replies.map(\.seq)), [4])
        XCTAssertEqual(Set(replies.map(\.outgoingSeq)), [4])
        XCTAssertTrue(replies.allSatisfy(\.duplicate))
        let (reader, _) = try server.loggedIn(user: bob)
        let stored = try reader.pullAll(after: 0)
        XCTAssertEqual(stored.filter { $0.clientMessageID == 77 }.count, 1)
        XCTAssertEqual(stored.map(\.seq), [1, 2, 3, 4])
        let (ownDevice, _) = try server.loggedIn(user: alice, device: 2)
        XCTAssertEqual(try ownDevice.pullAll(after: 0).filter { $0.clientMessageID == 77 }.map(\.outgoing), [true])
    }

    func testSendersOtherDeviceIsNotifiedAndPullsTheOutgoingCopy() throws {
        let (phone, _) = try server.loggedIn(user: alice, device: 1)
        let (laptop, _) = try server.loggedIn(user: alice, device: 2)
        let ok = try send(1, from: phone, to: bob)[0]
        XCTAssertEqual(try laptop.waitForNotify(atLeast: ok.outgoingSeq).newestSeq, ok.outgoingSeq)
        let copy = try laptop.pullAll(after: 0)
        XCTAssertEqual(copy.map(\.outgoing), [true])
        XCTAssertEqual(copy.first?.peer, bob)
        XCTAssertEqual(copy.first?.senderDevice, 1)
    }
}
