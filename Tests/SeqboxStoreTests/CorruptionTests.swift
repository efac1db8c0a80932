import XCTest
import SeqboxFormat
@testable import SeqboxStore

/// Torn tails of the active segment, by byte surgery (LevelDB's corruption_test style): a store
/// is built and closed, its bytes are damaged, and reopening must do exactly what Recovery.swift
/// promises: drop the damaged end, report where and how much, zero it, and carry on with the
/// freed seqs.
final class CorruptionTests: XCTestCase {
    private var temporaryDirectories: [String] = []

    override func tearDown() {
        for directory in temporaryDirectories { try? FileManager.default.removeItem(atPath: directory) }
        temporaryDirectories = []
    }

    /// What reopening a store whose last record was damaged must show.
    private enum Expected {
        /// The damage touched only zero bytes (padding): the record is intact.
        case intact
        /// The record's bytes are all gone (zero or cut off before it): a clean end, no tear.
        case cleanEnd
        /// A torn record at the last record's offset; the last nonzero byte left is `lastNonzero`.
        case torn(lastNonzero: Int)
    }

    /// Reopens `fixture` (damaged), checks the outcome, appends, reopens again, checks again.
    private func assertRecovers(_ fixture: CorruptionFixture, last: CorruptionFixture.LastRecord, expected: Expected, _ context: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let store = try fixture.open()
        let report = store.recoveryReport
        switch expected {
        case .intact:
            XCTAssertNil(report.tornTail, context, file: file, line: line)
        case .cleanEnd:
            XCTAssertNil(report.tornTail, "an all-zero record is never-written space, not a tear: \(context)", file: file, line: line)
            fixture.forgetNewest(user: 1)
        case .torn(let lastNonzero):
            fixture.forgetNewest(user: 1)
            if let torn = report.tornTail {
                XCTAssertEqual(torn.segment, last.base, context, file: file, line: line)
                XCTAssertEqual(torn.offset, last.offset, "the tear starts at the damaged record: \(context)", file: file, line: line)
                XCTAssertGreaterThanOrEqual(torn.bytesDropped, lastNonzero + 1 - last.offset, "every damaged byte is dropped: \(context)", file: file, line: line)
                XCTAssertLessThanOrEqual(torn.bytesDropped, FormatConstants.alignUp(lastNonzero + 1 - last.offset, to: FormatConstants.recordAlignment),
                                         "nothing past the damage is counted: \(context)", file: file, line: line)
                XCTAssertEqual(torn.recordsDroppedAfter, 0, context, file: file, line: line)
                XCTAssertFalse(torn.problem.isEmpty, context, file: file, line: line)
            } else {
                XCTFail("expected a torn tail: \(context); report: \(report)", file: file, line: line)
            }
        }
        XCTAssertTrue(report.isClean, "a torn tail is not a loss: \(context); \(report.summary)", file: file, line: line)
        if case .intact = expected {} else {
            XCTAssertNil(CorruptionFixture.lastNonzero(fixture.bytes(last.path), from: last.offset),
                         "the dropped bytes are zeroed: \(context)", file: file, line: line)
        }
        fixture.assertHoldsEverythingSent(store, context, file: file, line: line)
        fixture.assertAcceptsAppends(store, user: 1, file: file, line: line)
        fixture.assertAcceptsAppends(store, user: 2, file: file, line: line)
        try store.close()

        let again = try fixture.open()
        XCTAssertNil(again.recoveryReport.tornTail, "second open: \(context)", file: file, line: line)
        XCTAssertTrue(again.recoveryReport.isClean, "second open: \(context); \(again.recoveryReport.summary)", file: file, line: line)
        fixture.assertHoldsEverythingSent(again, "second open: " + context, file: file, line: line)
        fixture.assertAcceptsAppends(again, user: 1, file: file, line: line)
        try again.close()
    }

    // MARK: Truncation inside the last record

    func testTailZeroedFromEveryOffsetInsideTheLastRecordDropsOnlyThatRecord() throws {
        let pristine = try CorruptionFixture.buildClosedStore()
        let last = try CorruptionFixture.lastRecord(pristine)
        let original = pristine.bytes(last.path)
        XCTAssertGreaterThan(last.size, last.dataEnd - last.offset, "the record ends in padding")
        for cut in last.offset ..< last.offset + last.size {
            let fixture = pristine.copy()
            fixture.zero(last.path, cut ..< last.offset + last.size)
            let damaged = fixture.bytes(last.path)
            let expected: Expected
            if damaged == original {
                expected = .intact
            } else if let lastNonzero = CorruptionFixture.lastNonzero(damaged, from: last.offset) {
                expected = .torn(lastNonzero: lastNonzero)
            } else {
                expected = .cleanEnd
            }
            if cut >= last.dataEnd, damaged != original { XCTFail("padding at \(cut) was not zero") }
            try assertRecovers(fixture, last: last, expected: expected, "zeroed from offset \(cut) (record at \(last.offset))")
        }
    }

    func testFileTruncatedAtEveryOffsetInsideTheLastRecordStillOpensAndDropsOnlyThatRecord() throws {
        let pristine = try CorruptionFixture.buildClosedStore()
        let last = try CorruptionFixture.lastRecord(pristine)
        XCTAssertGreaterThan(pristine.bytes(last.path).count, last.offset + last.size, "segments are preallocated")
        for cut in last.offset ..< last.offset + last.size {
            let fixture = pristine.copy()
            fixture.fileSystem.truncateFile(path: last.path, to: cut)
            let damaged = fixture.bytes(last.path)
            let expected: Expected
            if cut >= last.dataEnd {
                // Only zero padding is missing: the record verifies and is kept.
                expected = .intact
            } else if let lastNonzero = CorruptionFixture.lastNonzero(damaged, from: last.offset) {
                expected = .torn(lastNonzero: lastNonzero)
            } else {
                expected = .cleanEnd
            }
            try assertRecovers(fixture, last: last, expected: expected, "file cut at offset \(cut) (record at \(last.offset))")
        }
    }

    /// The same on the real file system: a segment file shorter than its preallocated size opens.
    func testSegmentFileTruncatedOnDiskInsideTheLastRecordOpensAndContinues() throws {
        let directory = NSTemporaryDirectory() + "seqbox-corruption-\(UUID().uuidString)"
        temporaryDirectories.append(directory)
        var options = StoreOptions()
        options.segmentBytes = CorruptionFixture.segmentBytes
        var store = try MailboxStore.open(directory: directory, options: options)
        let payloads = (1 ... 4).map { CorruptionFixture.payload(user: 5, seq: $0, size: 40) }
        for (index, payload) in payloads.enumerated() {
            _ = try store.append(NewMessage(user: UserID(5), sender: UserID(6), device: DeviceID(1), clientMessageID: ClientMessageID(UInt64(index)),
                                            timestampMs: 1, payload: payload))
        }
        try store.close()
        let path = directory + "/" + FormatConstants.segmentDirectoryName + "/" + FileNames.segment(.zero)
        let lastOffset = FormatConstants.segmentHeaderSize + 3 * RecordCodec.recordSize(storedLength: 40)
        let cut = lastOffset + FormatConstants.recordHeaderSize / 2 + 3
        XCTAssertEqual(truncate(path, off_t(cut)), 0)

        store = try MailboxStore.open(directory: directory, options: options)
        let torn = try XCTUnwrap(store.recoveryReport.tornTail)
        XCTAssertEqual(torn.offset, lastOffset)
        let onDisk = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(onDisk.count, cut, "the shorter file is not extended")
        XCTAssertNil(CorruptionFixture.lastNonzero(onDisk, from: lastOffset), "the torn bytes are zeroed")
        XCTAssertGreaterThan(torn.bytesDropped, 0)
        XCTAssertLessThanOrEqual(torn.bytesDropped, cut - lastOffset)
        XCTAssertEqual(store.newestSeq(user: UserID(5)), Seq(3))
        XCTAssertEqual(try store.read(user: UserID(5), after: .zero, limit: 10).messages.map(\.payload), Array(payloads[0 ..< 3]))
        let next = try store.append(NewMessage(user: UserID(5), sender: UserID(6), device: DeviceID(1), clientMessageID: ClientMessageID(99),
                                               timestampMs: 1, payload: [1, 2, 3]))
        XCTAssertEqual(next.seq, Seq(4), "the dropped seq is reused")
        try store.close()
        store = try MailboxStore.open(directory: directory, options: options)
        defer { try? store.close() }
        XCTAssertTrue(store.recoveryReport.isClean, store.recoveryReport.summary)
        XCTAssertNil(store.recoveryReport.tornTail)
        XCTAssertEqual(try store.read(user: UserID(5), after: Seq(3), limit: 10).messages.map(\.payload), [[1, 2, 3]])
    }

    /// A file cut a few bytes into its last record: the torn bytes must be erased at open, or
    /// they lie beyond the end of the segment once it is sealed and turn into "corruption" in
    /// sealed data the day its index file has to be rebuilt.
    func testTornBytesOfAShortSegmentFileNeverBecomeSealedCorruption() throws {
        let pristine = try CorruptionFixture.buildClosedStore()
        let last = try CorruptionFixture.lastRecord(pristine)
        for tornBytes in 1 ..< FormatConstants.recordAlignment {
            let fixture = pristine.copy()
            fixture.fileSystem.truncateFile(path: last.path, to: last.offset + tornBytes)
            fixture.forgetNewest(user: 1)
            var store = try fixture.open()
            fixture.assertAcceptsAppends(store, user: 1)
            XCTAssertEqual(fixture.segmentBases.count, 2, "the short segment was sealed")
            try store.close()
            try fixture.remove(CorruptionFixture.indexPath(last.base))
            do {
                store = try fixture.open()
            } catch {
                XCTFail("\(tornBytes) torn bytes: reopening after the index was lost failed: \(error)")
                continue
            }
            XCTAssertTrue(store.recoveryReport.isClean, "\(tornBytes) torn bytes: \(store.recoveryReport.summary)")
            fixture.assertHoldsEverythingSent(store, "\(tornBytes) torn bytes")
            try store.close()
        }
    }

    /// The common crash: appends after the newest checkpoint, the last one torn. The checkpoint
    /// stays in use; only the torn record goes.
    func testTornTailAfterTheNewestCheckpointIsDroppedAndTheCheckpointKept() throws {
        let closed = try CorruptionFixture.buildClosedStore()
        let checkpoint = try XCTUnwrap(closed.checkpointPositions.last)
        let store = try closed.open()
        try closed.append(store, user: 2, size: 40)
        try closed.append(store, user: 3, size: 40)
        let fixture = closed.copy()
        try? store.close()
        let base = try XCTUnwrap(fixture.segmentBases.last)
        let torn = try XCTUnwrap(fixture.records(base).last)
        XCTAssertGreaterThan(base.rawValue + UInt64(torn.offset), checkpoint.rawValue, "the torn record is after the checkpoint")
        let path = CorruptionFixture.segmentPath(base)
        fixture.zero(path, torn.offset + FormatConstants.recordHeaderSize + 3 ..< torn.offset + torn.header.recordSize)
        fixture.forgetNewest(user: 3)

        let reopened = try fixture.open()
        let report = reopened.recoveryReport
        XCTAssertEqual(report.checkpointUsed, checkpoint)
        XCTAssertEqual(report.checkpointProblems, [])
        XCTAssertEqual(report.tornTail?.offset, torn.offset)
        XCTAssertTrue(report.isClean, report.summary)
        XCTAssertNil(CorruptionFixture.lastNonzero(fixture.bytes(path), from: torn.offset), "the torn bytes are zeroed")
        fixture.assertHoldsEverythingSent(reopened)
        fixture.assertAcceptsAppends(reopened, user: 3)
        try reopened.close()
        let again = try fixture.open()
        defer { try? again.close() }
        XCTAssertNil(again.recoveryReport.tornTail)
        fixture.assertHoldsEverythingSent(again, "second open")
    }

    // MARK: Damage inside the last record

    func testFlippedBitInEveryHeaderByteOfTheLastRecordIsATornTail() throws {
        let pristine = try CorruptionFixture.buildClosedStore()
        let last = try CorruptionFixture.lastRecord(pristine)
        for byte in 0 ..< FormatConstants.recordHeaderSize {
            let fixture = pristine.copy()
            fixture.fileSystem.flipBit(path: last.path, offset: last.offset + byte, bit: byte % 8)
            let lastNonzero = try XCTUnwrap(CorruptionFixture.lastNonzero(fixture.bytes(last.path), from: last.offset))
            try assertRecovers(fixture, last: last, expected: .torn(lastNonzero: lastNonzero), "header byte \(byte) flipped")
        }
    }

    func testFlippedBitInEveryPayloadByteOfTheLastRecordIsATornTail() throws {
        let pristine = try CorruptionFixture.buildClosedStore()
        let last = try CorruptionFixture.lastRecord(pristine)
        for byte in last.offset + FormatConstants.recordHeaderSize ..< last.dataEnd {
            let fixture = pristine.copy()
            fixture.fileSystem.flipBit(path: last.path, offset: byte, bit: byte % 8)
            let lastNonzero = try XCTUnwrap(CorruptionFixture.lastNonzero(fixture.bytes(last.path), from: last.offset))
            try assertRecovers(fixture, last: last, expected: .torn(lastNonzero: lastNonzero), "payload byte at \(byte) flipped")
        }
    }

    func testBadLengthFieldInTheLastRecordIsATornTail() throws {
        let pristine = try CorruptionFixture.buildClosedStore()
        let last = try CorruptionFixture.lastRecord(pristine)
        let storedLengthOffset = last.offset + FormatConstants.recordChecksumCoveredFrom
        let capacity = pristine.bytes(last.path).count
        let lengths: [UInt32] = [
            0,                                              // shorter than written: checksum fails
            UInt32(CorruptionFixture.lastPayloadBytes + 1),              // one byte longer
            UInt32(capacity - last.offset),                 // runs past the segment's end
            UInt32(FormatConstants.recordSizeMax),          // beyond any record
            UInt32.max,
        ]
        for length in lengths {
            let fixture = pristine.copy()
            fixture.store(length, at: storedLengthOffset, of: last.path)
            let lastNonzero = try XCTUnwrap(CorruptionFixture.lastNonzero(fixture.bytes(last.path), from: last.offset))
            try assertRecovers(fixture, last: last, expected: .torn(lastNonzero: lastNonzero), "stored length \(length)")
        }
    }

    func testLastRecordZeroedWhollyIsACleanEndNotATear() throws {
        let fixture = try CorruptionFixture.buildClosedStore()
        let last = try CorruptionFixture.lastRecord(fixture)
        fixture.zero(last.path, last.offset ..< last.offset + last.size)
        try assertRecovers(fixture, last: last, expected: .cleanEnd, "last record zeroed")
    }

    func testValidRecordFollowedByATornOneIsKept() throws {
        let fixture = try CorruptionFixture.buildClosedStore()
        let last = try CorruptionFixture.lastRecord(fixture)
        let previous = try XCTUnwrap(fixture.records(last.base).dropLast().last)
        XCTAssertEqual(previous.offset + previous.header.recordSize, last.offset, "adjacent records")
        fixture.zero(last.path, last.offset + FormatConstants.recordHeaderSize + 1 ..< last.offset + last.size)
        let lastNonzero = try XCTUnwrap(CorruptionFixture.lastNonzero(fixture.bytes(last.path), from: last.offset))
        try assertRecovers(fixture, last: last, expected: .torn(lastNonzero: lastNonzero), "the newest record torn after its header")
    }
}
