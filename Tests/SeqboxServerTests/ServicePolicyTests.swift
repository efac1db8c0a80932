import SeqboxFormat
import Synchronization
import XCTest
@testable import SeqboxServer

/// The rate limiter and the example content filter.
final class ServicePolicyTests: XCTestCase {
    final class ManualClock: Sendable {
        let nanoseconds = Atomic<UInt64>(1_000_000_000)
        func advance(milliseconds: UInt64) { nanoseconds.add(milliseconds * 1_000_000, ordering: .relaxed) }
        var now: @Sendable () -> UInt64 { { self.nanoseconds.load(ordering: .relaxed) } }
    }

    func testRateLimiterAllowsABurstThenRefusesWithTheWaitForTheNextToken() {
        let clock = ManualClock()
        let limiter = RateLimiter(limit: RateLimit(perSecond: 10, burst: 3), clock: clock.now)
        XCTAssertEqual((0 ..< 3).map { _ in limiter.admit(1) }, [.allowed, .allowed, .allowed])
        XCTAssertEqual(limiter.admit(1), .limited(retryAfterMs: 100))
        clock.advance(milliseconds: 60)
        XCTAssertEqual(limiter.admit(1), .limited(retryAfterMs: 40))
        clock.advance(milliseconds: 40)
        XCTAssertEqual(limiter.admit(1), .allowed)
        XCTAssertEqual(limiter.admit(1), .limited(retryAfterMs: 100))
    }

    func testRateLimiterKeepsSendersApart() {
        let clock = ManualClock()
        let limiter = RateLimiter(limit: RateLimit(perSecond: 1, burst: 1), clock: clock.now)
        XCTAssertEqual(limiter.admit(1), .allowed)
        XCTAssertNotEqual(limiter.admit(1), .allowed)
        XCTAssertEqual(limiter.admit(2), .allowed)
    }

    func testRateLimiterMapStaysWithinItsBound() {
        let clock = ManualClock()
        let limiter = RateLimiter(limit: RateLimit(perSecond: 1, burst: 5), keysMax: 100, clock: clock.now)
        for key in 0 ..< UInt64(10_000) {
            _ = limiter.admit(key)
            XCTAssertLessThanOrEqual(limiter.trackedKeys, 100)
        }
        // A sender that is still limited keeps being limited while the map churns over idle ones.
        for _ in 0 ..< 5 { _ = limiter.admit(999_999) }
        XCTAssertNotEqual(limiter.admit(999_999), .allowed)
    }

    func testUnlimitedRateNeverRefuses() {
        let limiter = RateLimiter(limit: .unlimited, clock: { 0 })
        XCTAssertTrue((0 ..< 1000).allSatisfy { _ in limiter.admit(1) == .allowed })
        XCTAssertEqual(limiter.trackedKeys, 0)
    }

    func testKeywordFilterRefusesKeywordsCaseInsensitivelyAndPatterns() throws {
        let filter = try KeywordContentFilter(keywords: ["Casino"], patterns: [#"https?://bit\.ly/\w+"#])
        func verdict(_ text: String) -> ContentVerdict {
            filter.inspect(ContentCandidate(sender: UserID(1), recipient: UserID(2), body: Array(text.utf8)))
        }
        XCTAssertEqual(verdict("hello there"), .accept)
        XCTAssertNotEqual(verdict("best CASINO in town"), .accept)
        XCTAssertNotEqual(verdict("see http://bit.ly/abc123"), .accept)
        XCTAssertEqual(verdict("see http://example.com/abc"), .accept)
        XCTAssertEqual(filter.inspect(ContentCandidate(sender: UserID(1), recipient: UserID(2), body: [0xFF, 0xFE])), .accept)
    }

    func testKeywordFilterRejectsAnInvalidPattern() {
        XCTAssertThrowsError(try KeywordContentFilter(keywords: [], patterns: ["(unclosed"]))
    }
}
