import SeqboxFormat
import SeqboxProtocol
import SeqboxStore
import XCTest
@testable import SeqboxServer

/// LOGIN and the rules every other request follows (PROTOCOL.md §3, §5.3–5.4, §11).
final class ServiceLoginTests: XCTestCase {
    var harness: ServiceHarness!

    override func setUpWithError() throws { harness = try ServiceHarness() }
    override func tearDown() { harness.shutDown() }

    func testValidTokenLogsInAnEmptyMailboxAtEpochOne() {
        let (_, ok) = harness.logIn(user: 1001, device: 7)
        XCTAssertEqual(ok, Frame.LoginOK(newestSeq: 0, confirmedSeq: 0, deviceCursor: 0, firstSeq: 1, epoch: 1))
    }

    func testWrongTokenIsAuthFailedAndCloses() {
        let connection = harness.connect()
        let token = harness.token(user: 1002, device: 7)
        let reply = harness.request(.login(Frame.Login(user: 1001, device: 7, token: token)), on: connection)
        XCTAssertEqual(errorCode(reply), .authFailed)
        if case .error(let report)? = reply { XCTAssertTrue(report.closing) }
        XCTAssertNotNil(connection.closeReason)
    }

    func testExpiredTokenIsTokenExpiredAndCloses() {
        let connection = harness.connect()
        let token = harness.token(user: 1001, device: 7, expiresAtSeconds: ServiceHarness.nowSeconds - 1)
        let reply = harness.request(.login(Frame.Login(user: 1001, device: 7, token: token)), on: connection)
        XCTAssertEqual(errorCode(reply), .tokenExpired)
        XCTAssertNotNil(connection.closeReason)
    }

    func testRequestsBeforeLoginAreNotLoggedInAndKeepTheConnection() {
        let connection = harness.connect()
        XCTAssertEqual(errorCode(harness.request(.pull(Frame.Pull(after: 0, epoch: 0, limit: 10)), on: connection)), .notLoggedIn)
        XCTAssertEqual(errorCode(harness.request(.send(Frame.Send(to: 2, clientMessageID: 1, body: [])), on: connection)), .notLoggedIn)
        XCTAssertEqual(errorCode(harness.request(.ack(Frame.Ack(seq: 0)), on: connection)), .notLoggedIn)
        XCTAssertEqual(errorCode(harness.request(.block(Frame.Block(user: 2)), on: connection)), .notLoggedIn)
        XCTAssertNil(connection.closeReason)
    }

    func testSecondLoginIsBadRequest() {
        let (connection, _) = harness.logIn(user: 1001, device: 7)
        let again = harness.request(.login(Frame.Login(user: 1001, device: 7, token: harness.token(user: 1001, device: 7))), on: connection)
        XCTAssertEqual(errorCode(again), .badRequest)
        XCTAssertNil(connection.closeReason)
    }

    func testNewDeviceStartsAtConfirmedSeqOrAtFirstSeqWithFullHistory() throws {
        let (phone, _) = harness.logIn(user: 1, device: 1)
        let (sender, _) = harness.logIn(user: 2, device: 1)
        for id in 1 ... 5 { XCTAssertNotNil(harness.send("m\(id)", to: 1, id: UInt64(id), on: sender)) }
        guard case .ackOK(let acked)? = harness.request(.ack(Frame.Ack(seq: 3)), on: phone) else { return XCTFail("no ACK_OK") }
        XCTAssertEqual(acked.seq, 3)
        let (_, tablet) = harness.logIn(user: 1, device: 2)
        XCTAssertEqual(tablet, Frame.LoginOK(newestSeq: 5, confirmedSeq: 3, deviceCursor: 3, firstSeq: 1, epoch: 1))
        let (_, laptop) = harness.logIn(user: 1, device: 3, fullHistory: true)
        XCTAssertEqual(laptop?.deviceCursor, 0)
        // A known device resumes from its own cursor.
        let (_, phoneAgain) = harness.logIn(user: 1, device: 1)
        XCTAssertEqual(phoneAgain?.deviceCursor, 3)
    }

    func testSameUserAndDeviceOnAnotherConnectionReplacesTheOldOne() {
        let (old, _) = harness.logIn(user: 1, device: 1)
        let (new, ok) = harness.logIn(user: 1, device: 1)
        XCTAssertNotNil(ok)
        XCTAssertTrue(old.frames.contains { $0.frame == .goodbye(Frame.Goodbye(reason: .replaced)) })
        XCTAssertNotNil(old.closeReason)
        XCTAssertNil(new.closeReason)
    }

    func testClosedConnectionIsForgotten() {
        let (connection, _) = harness.logIn(user: 1, device: 1)
        XCTAssertEqual(harness.service.openConnectionCount, 1)
        connection.loop.sync { harness.service.connectionClosed(connection, reason: .peerClosed) }
        XCTAssertEqual(harness.service.openConnectionCount, 0)
    }
}
