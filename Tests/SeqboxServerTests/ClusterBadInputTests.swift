import Foundation
import XCTest

/// Bad client input (`EndToEndBadInputTests`), unchanged, through a gateway with two storage
/// nodes behind it: the gateway refuses it as the embedded server does.
final class ClusterBadInputTests: EndToEndBadInputTests {
    override func makeServer(directory: String, arguments: [String]) throws -> ServerProcess {
        try ClusterLauncher.makeGateway(for: self, directory: directory, arguments: arguments)
    }

    /// Bob lives on the other node than Alice and Carol, so blocking and sending cross nodes.
    override var bob: UInt64 { ClusterLauncher.users(on: 1 - ClusterLauncher.node(of: alice), count: 1, from: 12)[0] }
    override var carol: UInt64 { ClusterLauncher.users(on: ClusterLauncher.node(of: alice), count: 1, from: 13)[0] }

    func testTheUsersLiveOnDifferentNodes() {
        XCTAssertNotEqual(ClusterLauncher.node(of: alice), ClusterLauncher.node(of: bob))
        XCTAssertNotEqual(ClusterLauncher.node(of: carol), ClusterLauncher.node(of: bob))
    }

    // XCTest on Linux runs only the test methods a class declares: each inherited one is named here.
    override func testBlockedSenderGetsBlockedAndNothingIsStored() throws { try super.testBlockedSenderGetsBlockedAndNothingIsStored() }
    override func testWrongTokenIsAuthFailedAndExpiredTokenIsTokenExpired() throws { try super.testWrongTokenIsAuthFailedAndExpiredTokenIsTokenExpired() }
    override func testAnotherUsersMailboxIsOutOfReach() throws { try super.testAnotherUsersMailboxIsOutOfReach() }
    override func testGarbageBytesBeforeHelloGetAnErrorAndTheConnectionCloses() throws { try super.testGarbageBytesBeforeHelloGetAnErrorAndTheConnectionCloses() }
    override func testWellFramedGarbageAfterLoginIsBadFrameAndCloses() throws { try super.testWellFramedGarbageAfterLoginIsBadFrameAndCloses() }
    override func testRandomGarbageNeverTakesTheServerDown() throws { try super.testRandomGarbageNeverTakesTheServerDown() }
    override func testOversizedFrameIsFrameTooLargeAndCloses() throws { try super.testOversizedFrameIsFrameTooLargeAndCloses() }
    override func testSendBodyAboveTheLimitIsPayloadTooLargeAndTheConnectionStays() throws { try super.testSendBodyAboveTheLimitIsPayloadTooLargeAndTheConnectionStays() }
    override func testUnsupportedVersionIsRefusedAndCloses() throws { try super.testUnsupportedVersionIsRefusedAndCloses() }
    override func testHalfOpenConnectionIsClosedAfterTheIdleTimeout() throws { try super.testHalfOpenConnectionIsClosedAfterTheIdleTimeout() }
    override func testSlowReaderIsDisconnectedWithoutHurtingOthers() throws { try super.testSlowReaderIsDisconnectedWithoutHurtingOthers() }
}
