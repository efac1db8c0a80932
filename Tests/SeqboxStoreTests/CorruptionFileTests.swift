import XCTest
import SeqboxFormat
@testable import SeqboxStore

/// Damage to whole files: segment headers, unknown versions, missing segments, and the derived
/// files (index files, checkpoints) that are rebuilt from the log, never trusted over it.
final class CorruptionFileTests: XCTestCase {
    private func buildStore() throws -> CorruptionFixture { try CorruptionSealedSegmentTests.buildStore() }

    /// Seqs of every user in segment `index` (0-based) of `buildStore`.
    private func seqs(ofSegment index: Int) -> ClosedRange<UInt32> {
        let count = UInt32(CorruptionSealedSegmentTests.messagesPerUserPerSegment)
        return UInt32(index) * count + 1 ... UInt32(index + 1) * count
    }

    private func lostInSegment(_ index: Int) -> [UInt64: ClosedRange<UInt32>] {
        Dictionary(uniqueKeysWithValues: CorruptionSealedSegmentTests.users.map { ($0, seqs(ofSegment: index)) })
    }

    private func assertIntact(_ store: MailboxStore, _ fixture: CorruptionFixture, _ context: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        fixture.assertHoldsEverythingSent(store, context, file: file, line: line)
        XCTAssertEqual(store.cursor(user: UserID(1), device: DeviceID(1)), Seq(2), "cursor: \(context)", file: file, line: line)
        XCTAssertTrue(store.isBlocked(user: UserID(2), blocked: UserID(9)), "block: \(context)", file: file, line: line)
        XCTAssertEqual(store.blockedUsers(user: UserID(2)), [UserID(9)], "blocklist: \(context)", file: file, line: line)
    }

    // MARK: Segment headers

    /// A damaged segment header is corruption (refused by default, the segment named), but the
    /// records behind it carry their own checksums seeded with the base in the file name, so
    /// with `.openWithLoss` every record is still read and nothing is lost.
    func testFlippedBitInASealedSegmentHeaderRefusesToOpenNamingTheSegment() throws {
        let pristine = try buildStore()
        let sealed = pristine.segmentBases[1]
        // magic, version, header size, base position, created, capacity, checksum
        for byte in [0, 8, 10, 16, 24, 32, FormatConstants.segmentHeaderChecksumOffset] {
            let fixture = pristine.copy()
            fixture.fileSystem.flipBit(path: CorruptionFixture.segmentPath(sealed), offset: byte, bit: 0)
            guard let report = corruptReport({ try fixture.open() }, "header byte \(byte)") else { continue }
            XCTAssertTrue(report.corruptions.contains { $0.segment == sealed && $0.offset == 0 }, "header byte \(byte): \(report.summary)")
            XCTAssertEqual(report.lostRanges, [], "header byte \(byte): the records are intact")
        }
    }

    func testOpenWithLossOfASealedSegmentWithACorruptHeaderKeepsEveryRecord() throws {
        let fixture = try buildStore()
        fixture.fileSystem.flipBit(path: CorruptionFixture.segmentPath(fixture.segmentBases[1]), offset: 20, bit: 0)
        let store = try fixture.open(.openWithLoss)
        XCTAssertTrue(store.recoveryReport.corruptions.contains { $0.segment == fixture.segmentBases[1] }, store.recoveryReport.summary)
        XCTAssertEqual(store.recoveryReport.lostRanges, [])
        assertIntact(store, fixture, "corrupt header of the second segment")
        try store.close()
        let again = try fixture.open(.openWithLoss)
        defer { try? again.close() }
        assertIntact(again, fixture, "second open")
    }

    func testFlippedBitInTheActiveSegmentHeaderRefusesToOpenOrKeepsEveryRecord() throws {
        let pristine = try buildStore()
        let active = pristine.segmentBases[2]
        let fixture = pristine.copy()
        fixture.fileSystem.flipBit(path: CorruptionFixture.segmentPath(active), offset: 20, bit: 0)
        if let report = corruptReport({ try fixture.open() }, "active header") {
            XCTAssertTrue(report.corruptions.contains { $0.segment == active && $0.offset == 0 }, report.summary)
        }
        let store = try fixture.open(.openWithLoss)
        XCTAssertEqual(store.recoveryReport.lostRanges, [])
        assertIntact(store, fixture, "corrupt header of the active segment")
        let newest = store.newestSeq(user: UserID(1))
        XCTAssertEqual(newest, Seq(seqs(ofSegment: 2).upperBound), "the newest seq never goes back")
        XCTAssertEqual(try store.append(NewMessage(user: UserID(1), sender: UserID(77), device: DeviceID(1), clientMessageID: ClientMessageID(987_654),
                                                   timestampMs: 1, payload: [1, 2, 3])).seq, Seq(newest.rawValue + 1))
        try store.close()
    }

    /// `lost` seqs read as lost (and a lost range below the newest seq is reported), the rest is
    /// intact, and appends continue after the newest seq. When the lost seqs were a mailbox's
    /// newest and the store cannot know them any more, its newest seq may only go back with a new
    /// epoch (DESIGN.md invariant 3).
    private func assertLoss(_ store: MailboxStore, _ fixture: CorruptionFixture, lost: [UInt64: ClosedRange<UInt32>], _ context: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        let report = store.recoveryReport
        var readable = fixture.sent
        var readableLost: [UInt64: ClosedRange<UInt32>] = [:]
        for (user, range) in lost.sorted(by: { $0.key < $1.key }) {
            let newest = store.newestSeq(user: UserID(user)).rawValue
            if newest >= range.upperBound {
                readableLost[user] = range
                if Int(range.upperBound) < fixture.sent[user]!.count {
                    XCTAssertTrue(report.lostRanges.contains(RecoveryReport.LostRange(user: UserID(user), first: Seq(range.lowerBound), last: Seq(range.upperBound))),
                                  "user \(user) seqs \(range) reported lost: \(context); \(report.summary)", file: file, line: line)
                }
            } else {
                XCTAssertEqual(newest, range.lowerBound - 1, "user \(user): \(context)", file: file, line: line)
                XCTAssertGreaterThan(store.mailboxInfo(user: UserID(user)).epoch, Epoch.initial,
                                     "user \(user)'s newest seq went back from \(range.upperBound) to \(newest) without an epoch change: \(context)",
                                     file: file, line: line)
                readable[user]!.removeLast(readable[user]!.count - Int(newest))
            }
        }
        CorruptionFixture.assertHolds(store, sent: readable, lost: readableLost, context, file: file, line: line)
        for user in CorruptionSealedSegmentTests.users {
            let newest = store.newestSeq(user: UserID(user)).rawValue
            do {
                let result = try store.append(NewMessage(user: UserID(user), sender: UserID(50), device: DeviceID(50),
                                                         clientMessageID: ClientMessageID(UInt64(newest) << 8 | user), timestampMs: 1, payload: [7]))
                XCTAssertEqual(result.seq, Seq(newest + 1), "user \(user): \(context)", file: file, line: line)
                if Int(newest) < fixture.sent[user]!.count { fixture.sent[user]!.removeLast(fixture.sent[user]!.count - Int(newest)) }
                fixture.sent[user]!.append([7])
            } catch {
                XCTFail("append for user \(user) failed: \(error) \(context)", file: file, line: line)
            }
        }
    }

    // MARK: Versions

    func testUnknownVersionInASegmentHeaderRefusesToOpenWhateverThePolicy() throws {
        let pristine = try buildStore()
        let future = FormatConstants.formatVersion + 1
        for segmentIndex in 0 ..< CorruptionSealedSegmentTests.segmentCount {
            for reseal in [true, false] {
                let fixture = pristine.copy()
                let path = CorruptionFixture.segmentPath(fixture.segmentBases[segmentIndex])
                fixture.store(future, at: 8, of: path)
                if reseal {
                    // A well-formed header of a future version: its checksum agrees.
                    let covered = Array(fixture.bytes(path)[0 ..< FormatConstants.segmentHeaderChecksumOffset])
                    fixture.store(Checksum.xxh3(covered), at: FormatConstants.segmentHeaderChecksumOffset, of: path)
                }
                for policy in [CorruptionPolicy.refuse, .openWithLoss] {
                    let context = "segment \(segmentIndex), resealed \(reseal), \(policy)"
                    do {
                        let store = try fixture.open(policy)
                        try? store.close()
                        XCTFail("opened a store holding a segment of version \(future): \(context)")
                    } catch StoreError.unsupportedVersion(let failing, let version) {
                        XCTAssertEqual(failing, path, context)
                        XCTAssertEqual(version, future, context)
                    } catch {
                        XCTFail("expected unsupportedVersion, got \(error): \(context)")
                    }
                }
                XCTAssertEqual(fixture.segmentBases.count, CorruptionSealedSegmentTests.segmentCount, "nothing was deleted")
            }
        }
    }

    // MARK: Index files

    func testDeletedIndexFileIsRebuiltAndReported() throws {
        let pristine = try buildStore()
        for sealed in pristine.segmentBases.dropLast() {
            let fixture = pristine.copy()
            let path = CorruptionFixture.indexPath(sealed)
            let original = fixture.bytes(path)
            try fixture.remove(path)
            let store = try fixture.open()
            XCTAssertEqual(store.recoveryReport.indexFilesRebuilt, [sealed])
            XCTAssertTrue(store.recoveryReport.isClean, store.recoveryReport.summary)
            XCTAssertEqual(fixture.bytes(path), original, "the rebuilt index equals the one written at the roll")
            assertIntact(store, fixture, "index of \(sealed) deleted")
            fixture.assertAcceptsAppends(store, user: 3)
            try store.close()
            let again = try fixture.open()
            XCTAssertEqual(again.recoveryReport.indexFilesRebuilt, [], "rebuilt once")
            assertIntact(again, fixture, "second open")
            try again.close()
        }
    }

    func testCorruptIndexFileIsRebuiltAndReported() throws {
        let pristine = try buildStore()
        let sealed = pristine.segmentBases[1]
        let path = CorruptionFixture.indexPath(sealed)
        let original = pristine.bytes(path)
        let otherIndex = pristine.bytes(CorruptionFixture.indexPath(pristine.segmentBases[0]))
        var damages: [(String, [UInt8])] = []
        for offset in [0, 8, 16, 24, FormatConstants.indexHeaderSize, FormatConstants.indexHeaderSize + 4, FormatConstants.indexHeaderSize + 8,
                       original.count - FormatConstants.indexEntrySize, original.count - 1] {
            var bytes = original
            bytes[offset] ^= 0x10
            damages.append(("bit flipped at \(offset)", bytes))
        }
        damages.append(("empty", []))
        damages.append(("truncated", Array(original.dropLast(FormatConstants.indexEntrySize))))
        damages.append(("header only", Array(original.prefix(FormatConstants.indexHeaderSize))))
        damages.append(("another segment's index", otherIndex))
        for (what, bytes) in damages {
            let fixture = pristine.copy()
            fixture.fileSystem.setContents(bytes, of: path)
            let store = try fixture.open()
            XCTAssertEqual(store.recoveryReport.indexFilesRebuilt, [sealed], what)
            XCTAssertTrue(store.recoveryReport.isClean, "\(what): \(store.recoveryReport.summary)")
            XCTAssertEqual(fixture.bytes(path), original, "\(what): rebuilt")
            assertIntact(store, fixture, what)
            fixture.assertAcceptsAppends(store, user: 1)
            try store.close()
        }
    }

    // MARK: Checkpoints

    /// A store closed twice: the older checkpoint covers the first session, the newer one the
    /// second, which also moved a cursor, blocked, unblocked and appended.
    private func buildStoreWithTwoCheckpoints() throws -> (CorruptionFixture, older: LogPosition, newer: LogPosition) {
        let fixture = try buildStore()
        let store = try fixture.open()
        try store.ack(user: UserID(3), device: DeviceID(4), seq: Seq(8))
        try store.block(user: UserID(1), blocked: UserID(2))
        try store.block(user: UserID(1), blocked: UserID(3))
        try store.unblock(user: UserID(1), blocked: UserID(3))
        try fixture.append(store, user: 2)
        try fixture.append(store, user: 1)
        try store.close()
        let positions = fixture.checkpointPositions
        XCTAssertEqual(positions.count, FormatConstants.checkpointsKept)
        return (fixture, positions[0], positions[1])
    }

    private func assertStateOfTwoSessions(_ store: MailboxStore, _ fixture: CorruptionFixture, _ context: String,
                                          file: StaticString = #filePath, line: UInt = #line) {
        assertIntact(store, fixture, context, file: file, line: line)
        XCTAssertEqual(store.cursor(user: UserID(3), device: DeviceID(4)), Seq(8), "cursor of the second session: \(context)", file: file, line: line)
        XCTAssertEqual(store.confirmedSeq(user: UserID(3)), Seq(8), context, file: file, line: line)
        XCTAssertEqual(store.blockedUsers(user: UserID(1)), [UserID(2)], "blocks of the second session: \(context)", file: file, line: line)
    }

    func testCorruptNewestCheckpointFallsBackToTheOlderOneWithAllStateIntact() throws {
        let (pristine, older, newer) = try buildStoreWithTwoCheckpoints()
        let size = pristine.bytes(CorruptionFixture.checkpointPath(newer)).count
        for offset in [0, 16, CheckpointCodec.headerSize + 4, size / 2, size - 1] {
            let fixture = pristine.copy()
            fixture.fileSystem.flipBit(path: CorruptionFixture.checkpointPath(newer), offset: offset, bit: 2)
            let store = try fixture.open()
            let report = store.recoveryReport
            XCTAssertEqual(report.checkpointUsed, older, "byte \(offset)")
            XCTAssertTrue(report.checkpointProblems.contains { $0.contains(FileNames.checkpoint(newer)) }, "byte \(offset): \(report.checkpointProblems)")
            XCTAssertTrue(report.isClean, report.summary)
            assertStateOfTwoSessions(store, fixture, "newest checkpoint flipped at \(offset)")
            fixture.assertAcceptsAppends(store, user: 3)
            try store.close()
            let again = try fixture.open()
            assertStateOfTwoSessions(again, fixture, "second open")
            try again.close()
        }
    }

    func testEveryCheckpointCorruptRebuildsTheStateFromTheLog() throws {
        let (fixture, older, newer) = try buildStoreWithTwoCheckpoints()
        for position in [older, newer] {
            let path = CorruptionFixture.checkpointPath(position)
            fixture.fileSystem.flipBit(path: path, offset: fixture.bytes(path).count / 2, bit: 5)
        }
        let store = try fixture.open()
        let report = store.recoveryReport
        XCTAssertNil(report.checkpointUsed)
        for position in [older, newer] {
            XCTAssertTrue(report.checkpointProblems.contains { $0.contains(FileNames.checkpoint(position)) }, "\(report.checkpointProblems)")
        }
        XCTAssertTrue(report.isClean, report.summary)
        assertStateOfTwoSessions(store, fixture, "both checkpoints corrupt")
        fixture.assertAcceptsAppends(store, user: 2)
        try store.close()
        let again = try fixture.open()
        defer { try? again.close() }
        XCTAssertNotNil(again.recoveryReport.checkpointUsed, "a fresh checkpoint was written")
        assertStateOfTwoSessions(again, fixture, "second open")
    }

    func testCheckpointWhoseLastRecordIsNoLongerInTheLogIsRejected() throws {
        let (fixture, older, newer) = try buildStoreWithTwoCheckpoints()
        // The newer checkpoint's last record is user 1's newest message; erase it from the log.
        let last = try XCTUnwrap(fixture.locate(user: 1, seq: UInt32(fixture.sent[1]!.count)))
        XCTAssertEqual(fixture.records(last.base).last?.offset, last.offset)
        fixture.zero(CorruptionFixture.segmentPath(last.base), last.offset ..< last.offset + last.header.recordSize)
        fixture.forgetNewest(user: 1)

        let store = try fixture.open()
        let report = store.recoveryReport
        XCTAssertEqual(report.checkpointUsed, older)
        XCTAssertTrue(report.checkpointProblems.contains { $0.contains(FileNames.checkpoint(newer)) }, "\(report.checkpointProblems)")
        assertStateOfTwoSessions(store, fixture, "the newer checkpoint's last record erased")
        fixture.assertAcceptsAppends(store, user: 1)
        try store.close()
        let again = try fixture.open()
        defer { try? again.close() }
        assertStateOfTwoSessions(again, fixture, "second open")
    }

    func testCheckpointOfAnotherStoreIsRejected() throws {
        let (fixture, _, newer) = try buildStoreWithTwoCheckpoints()
        let stranger = try CorruptionFixture()
        let strangerStore = try stranger.open()
        for _ in 0 ..< 40 { try stranger.append(strangerStore, user: 77, size: 100) }
        try strangerStore.close()
        let foreign = try XCTUnwrap(stranger.checkpointPositions.last)
        XCTAssertGreaterThan(foreign, newer, "the foreign checkpoint claims to be the newest")
        fixture.fileSystem.setContents(stranger.bytes(CorruptionFixture.checkpointPath(foreign)), of: CorruptionFixture.checkpointPath(foreign))

        let store = try fixture.open()
        defer { try? store.close() }
        XCTAssertEqual(store.recoveryReport.checkpointUsed, newer)
        XCTAssertTrue(store.recoveryReport.checkpointProblems.contains { $0.contains(FileNames.checkpoint(foreign)) })
        XCTAssertEqual(store.newestSeq(user: UserID(77)), .zero, "nothing of the other store leaks in")
        assertStateOfTwoSessions(store, fixture, "foreign checkpoint")
    }

    // MARK: Missing segments

    func testMissingMiddleSegmentRefusesToOpenNamingTheGap() throws {
        let pristine = try buildStore()
        for keepCheckpoints in [true, false] {
            let fixture = pristine.copy()
            let middle = fixture.segmentBases[1]
            try fixture.remove(CorruptionFixture.segmentPath(middle))
            try fixture.remove(CorruptionFixture.indexPath(middle))
            if !keepCheckpoints {
                for position in fixture.checkpointPositions { try fixture.remove(CorruptionFixture.checkpointPath(position)) }
            }
            guard let report = corruptReport({ try fixture.open() }, "checkpoints kept: \(keepCheckpoints)") else { continue }
            XCTAssertTrue(report.missingSegments.contains { $0.contains(String(middle.rawValue)) }, "names the gap: \(report.summary)")
            XCTAssertEqual(fixture.segmentBases.count, CorruptionSealedSegmentTests.segmentCount - 1, "refusing changes nothing")
        }
    }

    func testOpenWithLossOfAMissingMiddleSegmentReadsItsSeqsAsLost() throws {
        let pristine = try buildStore()
        for keepCheckpoints in [true, false] {
            let context = "checkpoints kept: \(keepCheckpoints)"
            let fixture = pristine.copy()
            let middle = fixture.segmentBases[1]
            try fixture.remove(CorruptionFixture.segmentPath(middle))
            try fixture.remove(CorruptionFixture.indexPath(middle))
            if !keepCheckpoints {
                for position in fixture.checkpointPositions { try fixture.remove(CorruptionFixture.checkpointPath(position)) }
            }
            let store = try fixture.open(.openWithLoss)
            XCTAssertFalse(store.recoveryReport.missingSegments.isEmpty, context)
            assertLoss(store, fixture, lost: lostInSegment(1), context)
            XCTAssertEqual(store.cursor(user: UserID(1), device: DeviceID(1)), Seq(2), context)
            try store.close()
            let again = try fixture.open(.openWithLoss)
            assertLoss(again, fixture, lost: lostInSegment(1), "second open, " + context)
            try again.close()
        }
    }
}
