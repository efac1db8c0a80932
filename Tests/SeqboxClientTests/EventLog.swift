import Foundation
import SeqboxClient
import Synchronization
import XCTest

/// Collects a client's events across threads and waits, bounded in time, for a condition.
final class EventLog: Sendable {
    private let events = Mutex<[ClientEvent]>([])

    var handler: @Sendable (ClientEvent) -> Void { { [self] event in events.withLock { $0.append(event) } } }

    var all: [ClientEvent] { events.withLock { $0 } }

    var messages: [InboxMessage] {
        all.flatMap { event -> [InboxMessage] in
            if case .messages(let messages) = event { return messages }
            return []
        }
    }

    var receipts: [SendReceipt] { all.compactMap { if case .sent(let receipt) = $0 { return receipt } else { return nil } } }

    var disconnects: [DisconnectReason] {
        all.compactMap { if case .disconnected(let reason, _) = $0 { return reason } else { return nil } }
    }

    /// Waits until `condition` holds, polling, for at most `seconds`; fails the test if not.
    @discardableResult
    func wait(_ what: String, seconds: Double = 10, file: StaticString = #filePath, line: UInt = #line,
              until condition: (EventLog) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(self) { return true }
            usleep(5_000)
        }
        XCTFail("timed out after \(seconds) s waiting for \(what); events: \(all.suffix(8))", file: file, line: line)
        return false
    }
}
