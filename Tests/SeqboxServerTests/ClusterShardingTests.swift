import SeqboxFormat
import SeqboxServer
import XCTest

/// Jump consistent hash and the user → storage node mapping: stable, balanced, and moving only
/// about 1/N of the users when a node is appended.
final class ClusterShardingTests: XCTestCase {
    func testJumpHashMatchesThePublishedReferenceValues() {
        // Values of the reference implementation (Lamping & Veach), as other implementations test them.
        XCTAssertEqual(UserSharding.jumpHash(key: 1, buckets: 1), 0)
        XCTAssertEqual(UserSharding.jumpHash(key: 42, buckets: 57), 43)
        XCTAssertEqual(UserSharding.jumpHash(key: 256, buckets: 1024), 520)
        XCTAssertEqual(UserSharding.jumpHash(key: 0xDEAD_10CC, buckets: 1), 0)
        XCTAssertEqual(UserSharding.jumpHash(key: 0xDEAD_10CC, buckets: 666), 361)
        XCTAssertEqual(UserSharding.jumpHash(key: 16_045_690_984_833_335_023, buckets: 255), 237)
        XCTAssertEqual(UserSharding.jumpHash(key: 0, buckets: 60), 0)
        XCTAssertEqual(UserSharding.jumpHash(key: 1, buckets: 60), 55)
        XCTAssertEqual(UserSharding.jumpHash(key: 2, buckets: 60), 46)
    }

    func testUserPlacementIsFrozen() {
        // Changing the mix or the hash would move every cluster's users: these must never change.
        let placements = (1 ... 12).map { UserSharding.node(of: UserID(UInt64($0)), nodeCount: 4) }
        XCTAssertEqual(placements, [3, 0, 1, 3, 3, 0, 1, 0, 2, 2, 0, 1])
        XCTAssertEqual(UserSharding.mix(0), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(UserSharding.node(of: UserID(1001), nodeCount: 2), 0)
        XCTAssertEqual(UserSharding.node(of: UserID(11), nodeCount: 2), 0)
    }

    func testEveryUserMapsIntoTheNodeListAndOneNodeTakesEveryone() {
        for user in UInt64(1) ... 1_000 {
            XCTAssertEqual(UserSharding.node(of: UserID(user), nodeCount: 1), 0)
            XCTAssertTrue((0 ..< 7).contains(UserSharding.node(of: UserID(user), nodeCount: 7)))
        }
    }

    func testUsersSpreadEvenlyAcrossNodes() {
        let users = 120_000
        for nodeCount in [2, 3, 5, 16] {
            var counts = Array(repeating: 0, count: nodeCount)
            // Sequential IDs, the worst case for an unmixed hash.
            for user in 1 ... users { counts[UserSharding.node(of: UserID(UInt64(user)), nodeCount: nodeCount)] += 1 }
            let even = Double(users) / Double(nodeCount)
            for (node, count) in counts.enumerated() {
                XCTAssertEqual(Double(count), even, accuracy: even * 0.05, "node \(node) of \(nodeCount): \(counts)")
            }
        }
    }

    func testAppendingANodeMovesAboutOneNthOfTheUsersAllToTheNewNode() {
        let users = 100_000
        for nodeCount in [1, 2, 4, 9] {
            var moved = 0
            for user in 1 ... users {
                let id = UserID(UInt64(user) &* 7_919)
                let before = UserSharding.node(of: id, nodeCount: nodeCount)
                let after = UserSharding.node(of: id, nodeCount: nodeCount + 1)
                if before != after {
                    moved += 1
                    XCTAssertEqual(after, nodeCount, "user \(id) moved between old nodes")
                }
            }
            let expected = Double(users) / Double(nodeCount + 1)
            XCTAssertEqual(Double(moved), expected, accuracy: expected * 0.05, "\(nodeCount) → \(nodeCount + 1) nodes")
        }
    }
}
