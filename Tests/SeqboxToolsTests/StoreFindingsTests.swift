import Foundation
import SeqboxFormat
import SeqboxStore
import SeqboxTooling
import XCTest

/// Behaviour of the store after a repair that the tools rely on (DESIGN.md invariant 3).
final class StoreFindingsTests: XCTestCase {
    var fixture: StoreFixture!

    override func setUpWithError() throws {
        fixture = try StoreFixture(name: "findings").build()
    }

    override func tearDown() { fixture.remove() }

    /// A mailbox whose newest seqs were lost keeps its newest seq after the repair's epoch
    /// change: the next message gets a new seq, never one a device may already hold from
    /// the old epoch ("a mailbox's newest seq never goes back").
    func testAfterRepairOfALostTailTheNextMessageDoesNotReuseALostSeq() throws {
        let fault = try PlantedFault.flippedBitInLastRecord(fixture)
        let (user, lost) = try XCTUnwrap(fault.lost.first)
        XCTAssertEqual(ToolRunner.fsck(["--repair", fixture.directory]).status, 0)
        let store = try fixture.open()
        defer { try? store.close() }
        XCTAssertGreaterThanOrEqual(store.newestSeq(user: UserID(user)).rawValue, lost.upperBound, "the newest seq went back")
        let next = try store.append(StoreFixture.message(user: user, index: 10_000))
        XCTAssertGreaterThan(next.seq.rawValue, lost.upperBound, "seq \(next.seq) was reused after it was lost")
    }

    /// Padding records written by a repair carry no state: no mailbox for user 0 appears.
    func testPaddingRecordsDoNotCreateAMailbox() throws {
        _ = try PlantedFault.missingMiddleSegment(fixture)
        XCTAssertEqual(ToolRunner.fsck(["--repair", fixture.directory]).status, 0)
        let store = try fixture.open()
        defer { try? store.close() }
        XCTAssertFalse(store.users().contains(UserID(0)), "users: \(store.users())")
        XCTAssertEqual(store.stats().users, 3)
    }
}
