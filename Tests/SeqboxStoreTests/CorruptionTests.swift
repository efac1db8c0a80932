import XCTest
import SeqboxFormat
@testable import SeqboxStore

/// Torn tails of the active segment, by byte surgery (LevelDB's corruption_test style): a store
/// is built and closed, its bytes are damaged, and reopening must do exactly what Recovery.swift
/// promises: drop the damaged end, report where and how much, zero it, and carry on with the
/// freed seqs.
final class CorruptionTests: XCTestCase {
    /// Payload of the last record: odd, so the record ends in alignment padding.
    static let lastPayloadBytes = 2 * FormatConstants.recordAlignment + 5

    /// Three users' messages in the active segment, user 1's last; closed.
    private func buildClosedStore() throws -> CorruptionFixture {
        let fixture = try CorruptionFixture()
        let store = try fixture.open()
        for round in 0 ..< 3 {
            for user: UInt64 in [2, 3, 1] { try fixture.append(store, user: user, size: 10 + round * 7) }
        }
        try fixture.append(store, user: 1, size: Self.lastPayloadBytes)
        try store.close()
        XCTAssertEqual(fixture.segmentBases.count, 1, "everything is in the active segment")
        return fixture
    }

    private struct LastRecord {
        var base: LogPosition
        var offset: Int
        var size: Int
        var dataEnd: Int
        var path: String { CorruptionFixture.segmentPath(base) }
    }

    private func lastRecord(_ fixture: CorruptionFixture) throws -> LastRecord {
        let base = try XCTUnwrap(fixture.segmentBases.last)
        let record = try XCTUnwrap(fixture.records(base).last)
        XCTAssertEqual(record.header.user, UserID(1))
        XCTAssertEqual(record.header.storedLength, UInt32(Self.lastPayloadBytes))
        return LastRecord(base: base, offset: record.offset, size: record.header.recordSize,
                          dataEnd: record.offset + FormatConstants.recordHeaderSize + Int(record.header.storedLength))
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
    private func assertRecovers(_ fixture: CorruptionFixture, last: LastRecord, expected: Expected, _ context: String,
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
        let pristine = try buildClosedStore()
        let last = try lastRecord(pristine)
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
        let pristine = try buildClosedStore()
        let last = try lastRecord(pristine)
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
        defer { try? FileManager.default.removeItem(atPath: directory) }
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

    // MARK: Damage inside the last record

    func testFlippedBitInEveryHeaderByteOfTheLastRecordIsATornTail() throws {
        let pristine = try buildClosedStore()
        let last = try lastRecord(pristine)
        for byte in 0 ..< FormatConstants.recordHeaderSize {
            let fixture = pristine.copy()
            fixture.fileSystem.flipBit(path: last.path, offset: last.offset + byte, bit: byte % 8)
            let lastNonzero = try XCTUnwrap(CorruptionFixture.lastNonzero(fixture.bytes(last.path), from: last.offset))
            try assertRecovers(fixture, last: last, expected: .torn(lastNonzero: lastNonzero), "header byte \(byte) flipped")
        }
    }

    func testFlippedBitInEveryPayloadByteOfTheLastRecordIsATornTail() throws {
        let pristine = try buildClosedStore()
        let last = try lastRecord(pristine)
        for byte in last.offset + FormatConstants.recordHeaderSize ..< last.dataEnd {
            let fixture = pristine.copy()
            fixture.fileSystem.flipBit(path: last.path, offset: byte, bit: byte % 8)
            let lastNonzero = try XCTUnwrap(CorruptionFixture.lastNonzero(fixture.bytes(last.path), from: last.offset))
            try assertRecovers(fixture, last: last, expected: .torn(lastNonzero: lastNonzero), "payload byte at \(byte) flipped")
        }
    }

    func testBadLengthFieldInTheLastRecordIsATornTail() throws {
        let pristine = try buildClosedStore()
        let last = try lastRecord(pristine)
        let storedLengthOffset = last.offset + FormatConstants.recordChecksumCoveredFrom
        let capacity = pristine.bytes(last.path).count
        let lengths: [UInt32] = [
            0,                                              // shorter than written: checksum fails
            UInt32(Self.lastPayloadBytes + 1),              // one byte longer
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
        let fixture = try buildClosedStore()
        let last = try lastRecord(fixture)
        fixture.zero(last.path, last.offset ..< last.offset + last.size)
        try assertRecovers(fixture, last: last, expected: .cleanEnd, "last record zeroed")
    }

    func testValidRecordFollowedByATornOneIsKept() throws {
        let fixture = try buildClosedStore()
        let last = try lastRecord(fixture)
        let previous = try XCTUnwrap(fixture.records(last.base).dropLast().last)
        XCTAssertEqual(previous.offset + previous.header.recordSize, last.offset, "adjacent records")
        fixture.zero(last.path, last.offset + FormatConstants.recordHeaderSize + 1 ..< last.offset + last.size)
        let lastNonzero = try XCTUnwrap(CorruptionFixture.lastNonzero(fixture.bytes(last.path), from: last.offset))
        try assertRecovers(fixture, last: last, expected: .torn(lastNonzero: lastNonzero), "the newest record torn after its header")
    }

    // MARK: Garbage after the tail

    func testRandomGarbageRightAfterTheTailIsDroppedAndReported() throws {
        for seed: UInt64 in 1 ... 8 {
            let fixture = try buildClosedStore()
            let last = try lastRecord(fixture)
            let tail = last.offset + last.size
            var random = SeededRandom(seed: seed)
            let garbageBytes = 1 + random.nextInt(below: 3 * FormatConstants.recordHeaderSize)
            fixture.overwrite(last.path, tail ..< tail + garbageBytes) { _ in UInt8(truncatingIfNeeded: random.next() | 1) }

            let store = try fixture.open()
            let torn = try XCTUnwrap(store.recoveryReport.tornTail, "seed \(seed)")
            XCTAssertEqual(torn.offset, tail, "seed \(seed)")
            XCTAssertEqual(torn.bytesDropped, FormatConstants.alignUp(garbageBytes, to: FormatConstants.recordAlignment), "seed \(seed)")
            XCTAssertEqual(store.recoveryReport.checkpointUsed, fixture.checkpointPositions.last, "the checkpoint's last record is intact")
            XCTAssertNil(CorruptionFixture.lastNonzero(fixture.bytes(last.path), from: tail), "seed \(seed): garbage zeroed")
            fixture.assertHoldsEverythingSent(store, "seed \(seed)")
            fixture.assertAcceptsAppends(store, user: 3)
            try store.close()
            let again = try fixture.open()
            XCTAssertNil(again.recoveryReport.tornTail, "seed \(seed)")
            fixture.assertHoldsEverythingSent(again, "seed \(seed), second open")
            try again.close()
        }
    }

    /// An interrupted batch can leave a later page on disk while an earlier one never landed
    /// (the page cache writes back out of order): a valid-looking, never-acknowledged record
    /// beyond a run of zeros. Opening must erase it, or later appends that happen to end right
    /// where it starts would bring it back as a message nobody sent.
    func testStaleRecordBeyondZerosAfterTheTailIsErasedNotResurrectedLater() throws {
        let fixture = try buildClosedStore()
        let last = try lastRecord(fixture)
        let tail = last.offset + last.size
        let gap = 8 * FormatConstants.recordHeaderSize
        let staleSeq = UInt32(fixture.sent[1]!.count + 2)
        let stalePayload = CorruptionFixture.payload(user: 1, seq: 999, size: 32)
        var content = fixture.bytes(last.path)
        let staleHeader = RecordHeader(type: .message, user: UserID(1), seq: Seq(staleSeq), timestampMs: 5, sender: UserID(4),
                                       device: DeviceID(4), clientMessageID: ClientMessageID(4_444),
                                       storedLength: UInt32(stalePayload.count), rawLength: UInt32(stalePayload.count))
        content.withUnsafeMutableBytes { raw in
            stalePayload.withUnsafeBytes { payload in
                _ = RecordCodec.encode(staleHeader, payload: payload, into: raw, at: tail + gap, segmentBase: last.base)
            }
        }
        fixture.fileSystem.setContents(content, of: last.path)

        var store = try fixture.open()
        XCTAssertEqual(store.newestSeq(user: UserID(1)), Seq(staleSeq - 2), "the stale record is not reachable")
        XCTAssertNil(CorruptionFixture.lastNonzero(fixture.bytes(last.path), from: tail),
                     "bytes after the tail are erased at open; report: \(store.recoveryReport)")
        XCTAssertNotNil(store.recoveryReport.tornTail, "dropped bytes are reported")
        // One append whose record ends exactly where the stale record starts.
        try fixture.append(store, user: 1, size: CorruptionFixture.payloadSize(forRecordSize: gap))
        try store.close()

        store = try fixture.open()
        defer { try? store.close() }
        XCTAssertEqual(store.newestSeq(user: UserID(1)), Seq(staleSeq - 1), "no message appears that was never acknowledged")
        fixture.assertHoldsEverythingSent(store, "after the second open")
        fixture.assertAcceptsAppends(store, user: 1)
    }

    // MARK: Records after a tear

    /// Recovery.swift: valid-looking records after the first invalid one in the active segment are
    /// dropped with it (and counted), because they may be unacknowledged writes of the same batch.
    func testRecordsAfterADamagedRecordOfTheActiveSegmentAreDroppedAndCounted() throws {
        let fixture = try buildClosedStore()
        let records = fixture.records(try XCTUnwrap(fixture.segmentBases.last))
        let damaged = records[records.count - 3]
        let path = CorruptionFixture.segmentPath(try XCTUnwrap(fixture.segmentBases.last))
        fixture.fileSystem.flipBit(path: path, offset: damaged.offset + FormatConstants.recordHeaderSize, bit: 0)

        let store = try fixture.open()
        let torn = try XCTUnwrap(store.recoveryReport.tornTail)
        XCTAssertEqual(torn.offset, damaged.offset)
        XCTAssertEqual(torn.recordsDroppedAfter, 2)
        XCTAssertEqual(torn.bytesDropped, records.last!.offset + records.last!.header.recordSize - damaged.offset)
        for record in records.suffix(3) { fixture.forgetNewest(user: record.header.user.rawValue) }
        fixture.assertHoldsEverythingSent(store)
        for record in records.suffix(3) { fixture.assertAcceptsAppends(store, user: record.header.user.rawValue) }
        try store.close()
        let again = try fixture.open()
        defer { try? again.close() }
        XCTAssertNil(again.recoveryReport.tornTail)
        fixture.assertHoldsEverythingSent(again, "second open")
    }
}
