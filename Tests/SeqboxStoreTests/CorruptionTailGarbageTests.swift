import XCTest
import SeqboxFormat
@testable import SeqboxStore

/// Bytes after the last valid record of the active segment: garbage right after it, a stale
/// record beyond a run of zeros, and valid records after a damaged one. None of them may ever
/// be read as a message; all of them are dropped, zeroed and reported at open.
final class CorruptionTailGarbageTests: XCTestCase {
    func testRandomGarbageRightAfterTheTailIsDroppedAndReported() throws {
        for seed: UInt64 in 1 ... 8 {
            let fixture = try CorruptionFixture.buildClosedStore()
            let last = try CorruptionFixture.lastRecord(fixture)
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
        let fixture = try CorruptionFixture.buildClosedStore()
        let last = try CorruptionFixture.lastRecord(fixture)
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

    /// Bytes below the checkpoint's position were synced: damage there is corruption of
    /// acknowledged data, never a torn tail, even in the active segment. Opening refuses by
    /// default naming the lost seq; `.openWithLoss` reads it as lost and keeps every later record.
    func testADamagedRecordTheCheckpointCoversIsCorruptionNotATornTail() throws {
        let fixture = try CorruptionFixture.buildClosedStore()
        let records = fixture.records(try XCTUnwrap(fixture.segmentBases.last))
        let damaged = try XCTUnwrap(records.dropLast(2).last { $0.header.type == .message })
        let path = CorruptionFixture.segmentPath(try XCTUnwrap(fixture.segmentBases.last))
        fixture.fileSystem.flipBit(path: path, offset: damaged.offset + FormatConstants.recordHeaderSize, bit: 0)
        let lost = RecoveryReport.LostRange(user: damaged.header.user, first: damaged.header.seq, last: damaged.header.seq)

        XCTAssertThrowsError(try fixture.open()) { error in
            guard case StoreError.corrupt(let report) = error else { return XCTFail("expected corrupt, got \(error)") }
            XCTAssertNil(report.tornTail)
            XCTAssertEqual(report.lostRanges, [lost], report.summary)
        }
        let store = try fixture.open(.openWithLoss)
        XCTAssertEqual(store.recoveryReport.lostRanges, [lost])
        let read = try store.read(user: damaged.header.user, after: Seq(damaged.header.seq.rawValue - 1), limit: 10)
        XCTAssertEqual(read.status, .lost(first: damaged.header.seq, last: damaged.header.seq))
        for record in records.suffix(2) where record.header.type == .message {
            let after = try store.read(user: record.header.user, after: Seq(record.header.seq.rawValue - 1), limit: 1)
            XCTAssertEqual(after.messages.first?.seq, record.header.seq, "records after the damage stay readable")
        }
        try store.close()
    }

    /// In `sync` mode each batch is written only after the previous one was synced, and its first
    /// record carries the batch-start flag: a valid batch-start record after damaged bytes proves
    /// they had been acknowledged, even past the checkpoint. Corruption, never a torn tail that
    /// would drop the acknowledged records after it.
    func testDamageFollowedByALaterSyncedBatchIsCorruptionNotATornTail() throws {
        let closed = try CorruptionFixture.buildClosedStore()
        let session = try closed.open()
        let damagedSeq = try closed.append(session, user: 2)
        try closed.append(session, user: 3)
        try closed.append(session, user: 2)
        // A power cut now: no checkpoint covers the three batches, every one of them was synced.
        let fixture = closed.copy()
        try? session.close()
        let base = try XCTUnwrap(fixture.segmentBases.last)
        let records = fixture.records(base)
        let damaged = try XCTUnwrap(records.first { $0.header.user == UserID(2) && $0.header.seq == damagedSeq })
        XCTAssertEqual(records.suffix(2).map { $0.header.flags & FormatConstants.flagBatchStart }, [FormatConstants.flagBatchStart, FormatConstants.flagBatchStart])
        fixture.fileSystem.flipBit(path: CorruptionFixture.segmentPath(base), offset: damaged.offset + FormatConstants.recordHeaderSize, bit: 0)
        let lost = RecoveryReport.LostRange(user: UserID(2), first: damagedSeq, last: damagedSeq)

        XCTAssertThrowsError(try fixture.open()) { error in
            guard case StoreError.corrupt(let report) = error else { return XCTFail("expected corrupt, got \(error)") }
            XCTAssertNil(report.tornTail, report.summary)
            XCTAssertEqual(report.lostRanges, [lost], report.summary)
        }
        let store = try fixture.open(.openWithLoss)
        defer { try? store.close() }
        XCTAssertNil(store.recoveryReport.tornTail)
        fixture.assertHoldsEverythingSent(store, lost: [2: damagedSeq.rawValue ... damagedSeq.rawValue], "the later batches survive")
    }
}
