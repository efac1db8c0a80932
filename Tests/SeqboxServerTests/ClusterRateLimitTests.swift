import Foundation
import XCTest

/// The per-sender rate limit (`EndToEndRateLimitTests`), unchanged, on a gateway.
final class ClusterRateLimitTests: EndToEndRateLimitTests {
    override func makeServer(directory: String, arguments: [String]) throws -> ServerProcess {
        try ClusterLauncher.makeGateway(for: self, directory: directory, arguments: arguments)
    }

    // XCTest on Linux runs only the test methods a class declares: each inherited one is named here.
    override func testSenderOverItsRateGetsRateLimitedWithRetryAfterAndOthersAreNotAffected() throws {
        try super.testSenderOverItsRateGetsRateLimitedWithRetryAfterAndOthersAreNotAffected()
    }
}
