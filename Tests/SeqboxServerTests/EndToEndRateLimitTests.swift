import Foundation
import SeqboxProtocol
import XCTest

/// The per-sender rate limit, against a real seqboxd.
class EndToEndRateLimitTests: EndToEndTestCase {
    static let burst = 5
    override var serverArguments: [String] { ["--send-rate", "2", "--send-burst", "\(Self.burst)"] }

    func testSenderOverItsRateGetsRateLimitedWithRetryAfterAndOthersAreNotAffected() throws {
        let (fast, _) = try server.loggedIn(user: 21)
        let ids = try (1 ... Self.burst + 3).map { try fast.send(.send(Frame.Send(to: 22, clientMessageID: UInt64($0), body: [1]))) }
        let replies = try ids.map { try fast.reply(to: $0) }
        let accepted = replies.filter { if case .sendOK = $0 { true } else { false } }
        let limited = replies.compactMap(expectError).filter { $0.code == .rateLimited }
        XCTAssertEqual(accepted.count, Self.burst)
        XCTAssertEqual(limited.count, 3)
        XCTAssertTrue(limited.allSatisfy { $0.retryAfterMs > 0 && $0.retryAfterMs <= 500 && !$0.closing })
        // Waiting as told lets the same message through, on the same connection.
        usleep(useconds_t(limited[0].retryAfterMs) * 1000 + 50_000)
        guard case .sendOK = try fast.request(.send(Frame.Send(to: 22, clientMessageID: UInt64(Self.burst + 1), body: [1]))) else {
            return XCTFail("retry after the wait refused")
        }
        assertServerStillServes()
    }
}
