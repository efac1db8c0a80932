import Foundation
import SeqboxFormat
import SeqboxStore
import SeqboxTooling
import XCTest

/// `fsck --repair` on each planted fault: the repaired store verifies clean, opens, still holds
/// every intact record, has recorded each lost range with an epoch change, and the backup
/// holds the original bytes.
final class FsckRepairTests: XCTestCase {
    var fixture: StoreFixture!

    override func setUpWithError() throws {
        fixture = try StoreFixture(name: "repair").build()
    }

    override func tearDown() { fixture.remove() }

    func assertRepaired(_ plant: (StoreFixture) throws -> PlantedFault, file: StaticString = #filePath, line: UInt = #line) throws {
        let fault = try plant(fixture)
        let result = ToolRunner.fsck(["--repair", "--json", fixture.directory])
        XCTAssertEqual(result.status, 0, result.standardOutput + result.standardError, file: file, line: line)
        let repair = result.json["repair"] as? [String: Any] ?? [:]
        XCTAssertEqual(repair["succeeded"] as? Bool, true, file: file, line: line)
        XCTAssertEqual(repair["cleanAfter"] as? Bool, true, file: file, line: line)

        let after = ToolRunner.fsck(["--json", fixture.directory])
        XCTAssertEqual(after.status, 0, "not clean after repair: \(after.standardOutput)", file: file, line: line)
        try fixture.assertHoldsIntactRecords(lost: fault.lost, file: file, line: line)

        if let original = fault.damagedBytes {
            let folder = try XCTUnwrap(repair["backupFolder"] as? String, file: file, line: line)
            let backedUp = try Data(contentsOf: URL(fileURLWithPath: folder + "/log/" + fault.damagedFile))
            XCTAssertEqual(Array(backedUp), original, "the backup does not hold the original bytes", file: file, line: line)
            let journal = try String(contentsOfFile: folder + "/REPAIR.txt", encoding: .utf8)
            for (user, range) in fault.lost {
                XCTAssertTrue(journal.contains("lost \(user) \(range.lowerBound) \(range.upperBound)"), journal, file: file, line: line)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/INCOMPLETE"), "the repair is still marked incomplete", file: file, line: line)
        }
        let store = try fixture.open()
        defer { try? store.close() }
        for user: UInt64 in 1 ... 3 {
            let expected = fault.lost[user] == nil ? Epoch.initial : Epoch(Epoch.initial.rawValue + 1)
            XCTAssertEqual(store.mailboxInfo(user: UserID(user)).epoch, expected, "user \(user) epoch", file: file, line: line)
        }
    }

    func testRepairOfTornTailZeroesItAndKeepsEveryRecord() throws { try assertRepaired(PlantedFault.tornTail) }
    func testRepairOfFlippedBitInLastRecordRecordsTheLostTailWithAnEpochChange() throws { try assertRepaired(PlantedFault.flippedBitInLastRecord) }
    func testRepairOfTornUnsyncedRecordZeroesIt() throws { try assertRepaired(PlantedFault.tornUnsyncedRecord) }
    func testRepairOfFlippedBitInActiveSegmentKeepsTheRecordsAfterIt() throws { try assertRepaired(PlantedFault.flippedBitInActiveSegment) }
    func testRepairOfFlippedPayloadBitPadsTheRecordAndRecordsItsLoss() throws { try assertRepaired(PlantedFault.flippedPayloadBit) }
    func testRepairOfFlippedHeaderBitRewritesTheHeader() throws { try assertRepaired(PlantedFault.flippedHeaderBit) }
    func testRepairOfDeletedIndexFileLetsTheStoreRebuildIt() throws {
        try assertRepaired(PlantedFault.deletedIndexFile)
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.path(fixture.segmentNames[0].replacingOccurrences(of: ".log", with: ".idx"))))
    }
    func testRepairOfCorruptCheckpointReplacesIt() throws { try assertRepaired(PlantedFault.corruptCheckpoint) }
    func testRepairOfMissingMiddleSegmentFillsTheGapAndRecordsTheLosses() throws { try assertRepaired(PlantedFault.missingMiddleSegment) }

    func testRepairOfTruncatedMiddleSegmentReplacesItWithAFiller() throws { try assertRepaired(PlantedFault.truncatedMiddleSegment) }
    func testRepairOfFlippedMagicBitRewritesTheHeader() throws { try assertRepaired(PlantedFault.flippedMagicBit) }

    /// A repair that stopped after deleting the checkpoint (the only record of a lost tail)
    /// left its journal: the next run still records that loss, and marks both runs complete.
    func testInterruptedRepairIsFinishedByTheNextRun() throws {
        let fault = try PlantedFault.flippedBitInLastRecord(fixture)
        let (user, lost) = try XCTUnwrap(fault.lost.first)
        // What the interrupted run had done: journal written, checkpoints gone, record zeroed.
        let folder = fixture.directory + "/fsck-backup-20000101T000000Z"
        try FileManager.default.createDirectory(atPath: folder + "/log", withIntermediateDirectories: true)
        try "lost \(user) \(lost.lowerBound) \(lost.upperBound)\n".write(toFile: folder + "/REPAIR.txt", atomically: true, encoding: .utf8)
        try "unfinished\n".write(toFile: folder + "/INCOMPLETE", atomically: true, encoding: .utf8)
        for name in fixture.checkpointNames { try FileManager.default.removeItem(atPath: fixture.path(name)) }
        let verify = ToolRunner.fsck(["--json", fixture.directory])
        XCTAssertEqual(verify.status, 1)
        XCTAssertEqual(verify.problems("incomplete-repair").count, 1, verify.standardOutput)
        XCTAssertTrue(verify.lostRanges.contains([user, UInt64(lost.lowerBound), UInt64(lost.upperBound)]), verify.standardOutput)

        let repair = ToolRunner.fsck(["--repair", fixture.directory])
        XCTAssertEqual(repair.status, 0, repair.standardOutput)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/INCOMPLETE"))
        XCTAssertEqual(ToolRunner.fsck([fixture.directory]).status, 0)
        let store = try fixture.open()
        defer { try? store.close() }
        XCTAssertEqual(store.mailboxInfo(user: UserID(user)).epoch, Epoch(Epoch.initial.rawValue + 1))
    }

    func testRepairOfCleanStoreChangesNothing() throws {
        let before = try FileManager.default.contentsOfDirectory(atPath: fixture.directory).sorted()
        let result = ToolRunner.fsck(["--repair", fixture.directory])
        XCTAssertEqual(result.status, 0, result.standardOutput)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fixture.directory).sorted(), before, "no backup folder for a clean store")
    }

    func testRepairRefusesWhileAServerHoldsTheLock() throws {
        _ = try PlantedFault.tornTail(fixture)
        let store = try fixture.open(policy: .openWithLoss)
        defer { try? store.close() }
        for arguments in [["--repair", fixture.directory], [fixture.directory]] {
            let result = ToolRunner.fsck(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertTrue(result.standardError.contains("in use by a running server"), result.standardError)
            XCTAssertEqual(result.standardError.filter { $0 == "\n" }.count, 1, "one line: \(result.standardError)")
        }
    }

    func testRepairOfSeveralFaultsAtOnce() throws {
        let payload = try PlantedFault.flippedPayloadBit(fixture)
        _ = try PlantedFault.flippedHeaderBit(fixture)
        _ = try PlantedFault.corruptCheckpoint(fixture)
        _ = try PlantedFault.tornTail(fixture)
        let result = ToolRunner.fsck(["--repair", fixture.directory])
        XCTAssertEqual(result.status, 0, result.standardOutput)
        XCTAssertEqual(ToolRunner.fsck([fixture.directory]).status, 0)
        try fixture.assertHoldsIntactRecords(lost: payload.lost)
    }
}
