import Foundation
import XCTest

/// The design's sync scenarios (`EndToEndScenarioTests`), unchanged, through a gateway with two
/// storage nodes behind it.
final class ClusterScenarioTests: EndToEndScenarioTests {
    override func makeServer(directory: String, arguments: [String]) throws -> ServerProcess {
        try ClusterLauncher.makeGateway(for: self, directory: directory, arguments: arguments)
    }

    /// Bob lives on the other node than Alice, so every scenario crosses nodes.
    override var bob: UInt64 { ClusterLauncher.users(on: 1 - ClusterLauncher.node(of: alice), count: 1, from: 1002)[0] }

    func testTheScenarioUsersLiveOnDifferentNodes() {
        XCTAssertNotEqual(ClusterLauncher.node(of: alice), ClusterLauncher.node(of: bob), "the scenarios cross nodes")
    }

    // XCTest on Linux runs only the test methods a class declares: each inherited one is named here.
    override func testClientHolding100PullsTo150ThenANotifyLeadsItToPull151To200() throws { try super.testClientHolding100PullsTo150ThenANotifyLeadsItToPull151To200() }
    override func testSecondDeviceOfTheSameUserReceivesOnlyTheUnseenRange() throws { try super.testSecondDeviceOfTheSameUserReceivesOnlyTheUnseenRange() }
    override func testDroppedPullResponseIsRetriedWithTheSameSeqAndYieldsTheSameRange() throws { try super.testDroppedPullResponseIsRetriedWithTheSameSeqAndYieldsTheSameRange() }
    override func testRetriedSendReturnsTheSameSeqAndStoresNoDuplicate() throws { try super.testRetriedSendReturnsTheSameSeqAndStoresNoDuplicate() }
    override func testSendersOtherDeviceIsNotifiedAndPullsTheOutgoingCopy() throws { try super.testSendersOtherDeviceIsNotifiedAndPullsTheOutgoingCopy() }
}
