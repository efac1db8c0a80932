import Dispatch
import Foundation
import SeqboxFormat
import SeqboxProtocol
import SeqboxStore
import XCTest
@testable import SeqboxServer

/// The service under concurrent connections (each on its own loop), racing sends, logins,
/// closes and NOTIFYs; run under ThreadSanitizer by `make tsan`.
final class ServiceConcurrencyTests: XCTestCase {
    var harness: ServiceHarness!

    override func setUpWithError() throws { harness = try ServiceHarness() }
    override func tearDown() { harness.shutDown() }

    func testConcurrentSendersReconnectingRecipientsAndNotifiesStayConsistent() throws {
        let senders: [UInt64] = [1, 2, 3, 4]
        let recipients: [UInt64] = [11, 12, 13]
        let sendsPerSender = 150
        let senderConnections = senders.map { harness.logIn(user: $0, device: 1).0 }
        let group = DispatchGroup()
        let service = harness.service
        for (index, connection) in senderConnections.enumerated() {
            group.enter()
            DispatchQueue.global().async {
                for n in 0 ..< sendsPerSender {
                    let send = Frame.Send(to: recipients[n % recipients.count], clientMessageID: UInt64(n + 1), body: [UInt8(index)])
                    connection.loop.async { service.handle(DecodedFrame(requestID: UInt32(n + 1), frame: .send(send)), from: connection) }
                }
                group.leave()
            }
        }
        // Recipients log in and drop their connections while messages arrive.
        var live: [(connection: FakeConnection, user: UInt64, loginNewest: UInt32)] = []
        for round in 0 ..< 20 {
            for recipient in recipients {
                let (connection, ok) = harness.logIn(user: recipient, device: UInt64(round % 2 + 1))
                XCTAssertNotNil(ok)
                live.append((connection, recipient, ok?.newestSeq ?? 0))
            }
            for entry in live.prefix(live.count / 2) {
                entry.connection.loop.async { service.connectionClosed(entry.connection, reason: .peerClosed) }
            }
            live.removeFirst(live.count / 2)
        }
        XCTAssertEqual(group.wait(timeout: .now() + 30), .success)
        for connection in senderConnections {
            for id in 1 ... UInt32(sendsPerSender) { XCTAssertNotNil(harness.reply(to: id, on: connection, timeout: 10), "request \(id)") }
        }
        // Every mailbox holds each sender's messages once, in send order.
        for recipient in recipients {
            let stored = try harness.store.read(user: UserID(recipient), after: .zero, limit: 10_000).messages
            XCTAssertEqual(stored.count, senders.count * sendsPerSender / recipients.count)
            for sender in senders {
                let ids = stored.filter { $0.sender == UserID(sender) }.map(\.clientMessageID.rawValue)
                XCTAssertEqual(ids, ids.sorted())
                XCTAssertEqual(Set(ids).count, ids.count)
            }
        }
        // A live connection has seen the final newest seq, in its LOGIN_OK or in a NOTIFY
        // (PROTOCOL.md §5.10). Replaced ones (same device logging in again) are closed instead.
        for entry in live where entry.connection.closeReason == nil {
            let newest = harness.store.newestSeq(user: UserID(entry.user)).rawValue
            if entry.loginNewest < newest {
                XCTAssertEqual(harness.waitForNotify(atLeast: newest, on: entry.connection)?.newestSeq, newest, "user \(entry.user)")
            }
            XCTAssertTrue(harness.notifies(on: entry.connection).allSatisfy { $0.newestSeq <= newest })
        }
    }
}
