import Foundation
import SeqboxFormat
import SeqboxStore
import SeqboxTooling
import XCTest

/// fsck on clean stores and on stores with one planted fault each: it names the fault and
/// the lost range, and exits 1.
final class FsckVerifyTests: XCTestCase {
    var fixture: StoreFixture!

    override func setUpWithError() throws {
        fixture = try StoreFixture(name: "verify").build()
        XCTAssertGreaterThanOrEqual(fixture.segmentNames.count, 4, "the fixture needs several segments")
    }

    override func tearDown() { fixture.remove() }

    func testCleanStoreVerifiesCleanWithTotals() throws {
        let result = ToolRunner.fsck(["--json", fixture.directory])
        XCTAssertEqual(result.status, 0, result.standardOutput)
        XCTAssertEqual(result.json["clean"] as? Bool, true)
        XCTAssertEqual(result.json["users"] as? Int, 3)
        XCTAssertEqual(result.json["messages"] as? Int, 170)
        XCTAssertEqual(result.json["segments"] as? Int, fixture.segmentNames.count)
        XCTAssertGreaterThan(result.json["compressionRatio"] as? Double ?? 0, 1.0)
        XCTAssertEqual(result.problems.count, 0)
        XCTAssertEqual(result.lostRanges.count, 0)
    }

    func testStoreTrimmedByRetentionVerifiesClean() throws {
        let trimmed = StoreFixture(name: "retention")
        defer { trimmed.remove() }
        trimmed.retention = RetentionPolicy(maxBytes: 3 * Int64(StoreFixture.segmentBytes))
        try trimmed.build(count: 300)
        XCTAssertFalse(trimmed.segmentNames.first!.hasPrefix("00000000000000000000"), "retention deleted the oldest segments")
        let result = ToolRunner.fsck(["--json", trimmed.directory])
        XCTAssertEqual(result.status, 0, result.standardOutput)
        let stats = ToolRunner.dump(["--stats", "--json", trimmed.directory])
        XCTAssertEqual(stats.status, 0)
        XCTAssertTrue(stats.standardOutput.contains("\"cursors\":[{\"user\":1,\"device\":7,\"seq\":5"), "a cursor from a deleted segment comes from the checkpoint: \(stats.standardOutput)")
    }

    func testTextReportSaysCleanAndShowsTheRate() throws {
        let result = ToolRunner.fsck([fixture.directory])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.standardOutput.contains("problems: none"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("MB/s"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("users: 3"), result.standardOutput)
    }
}

extension FsckVerifyTests {
    /// Plants `fault`, runs fsck, and checks that it exits 1, names the fault's kind, file and
    /// offset, and reports exactly the fault's lost ranges.
    func assertNamed(_ plant: (StoreFixture) throws -> PlantedFault, file: StaticString = #filePath, line: UInt = #line) throws {
        let fault = try plant(fixture)
        let result = ToolRunner.fsck(["--json", fixture.directory])
        XCTAssertEqual(result.status, 1, result.standardOutput, file: file, line: line)
        let named = result.problems(fault.kind).filter { $0["file"] as? String == fault.file }
        XCTAssertFalse(named.isEmpty, "no \(fault.kind) problem for \(fault.file): \(result.problems)", file: file, line: line)
        if let offset = fault.offset {
            XCTAssertTrue(named.contains { ($0["offset"] as? Int) == offset }, "offset \(offset) not named: \(named)", file: file, line: line)
        }
        let expectedLost = fault.lost.keys.sorted().map { [$0, UInt64(fault.lost[$0]!.lowerBound), UInt64(fault.lost[$0]!.upperBound)] }
        XCTAssertEqual(result.lostRanges, expectedLost, file: file, line: line)
        let text = ToolRunner.fsck([fixture.directory])
        XCTAssertEqual(text.status, 1, file: file, line: line)
        XCTAssertTrue(text.standardOutput.contains("[\(fault.kind)]"), text.standardOutput, file: file, line: line)
        for (user, range) in fault.lost {
            let written = range.count == 1 ? "user \(user): \(range.lowerBound)" : "user \(user): \(range.lowerBound)-\(range.upperBound)"
            XCTAssertTrue(text.standardOutput.contains(written), "lost range '\(written)' not in:\n\(text.standardOutput)", file: file, line: line)
        }
    }

    func testTornTailIsNamedAndLosesNothing() throws { try assertNamed(PlantedFault.tornTail) }
    func testFlippedBitInLastRecordIsCorruptionAndItsSeqIsLostAtTheMailboxEnd() throws { try assertNamed(PlantedFault.flippedBitInLastRecord) }
    func testTornUnsyncedRecordIsATornTailWithoutLoss() throws { try assertNamed(PlantedFault.tornUnsyncedRecord) }
    func testFlippedBitInDurableDataOfActiveSegmentIsCorruptionNotATornTail() throws { try assertNamed(PlantedFault.flippedBitInActiveSegment) }
    func testFlippedPayloadBitInSealedSegmentIsNamedWithItsLostSeq() throws { try assertNamed(PlantedFault.flippedPayloadBit) }
    func testFlippedSegmentHeaderBitIsNamed() throws { try assertNamed(PlantedFault.flippedHeaderBit) }
    func testTruncatedMiddleSegmentIsNamedWithEveryLostRange() throws { try assertNamed(PlantedFault.truncatedMiddleSegment) }
    func testFlippedMagicBitIsAHeaderProblem() throws { try assertNamed(PlantedFault.flippedMagicBit) }
    func testDeletedIndexFileIsNamed() throws { try assertNamed(PlantedFault.deletedIndexFile) }
    func testCorruptCheckpointIsNamed() throws { try assertNamed(PlantedFault.corruptCheckpoint) }
    func testMissingMiddleSegmentIsNamedWithEveryLostRange() throws { try assertNamed(PlantedFault.missingMiddleSegment) }
}
