import XCTest
import SeqboxFormat
@testable import SeqboxStore

/// Damage inside sealed segments is corruption, not a torn tail: acknowledged data is gone.
/// By default opening refuses (`StoreError.corrupt` naming the lost user and seqs); with
/// `.openWithLoss` the store opens and those seqs read as `.lost`, everything else intact.
final class CorruptionSealedSegmentTests: XCTestCase {
    static let users: [UInt64] = [1, 2, 3]
    static let messagesPerUserPerSegment = 3
    static let segmentCount = 3

    /// Users 1-3 with seqs 1-3 in the first sealed segment, 4-6 in the second, 7-9 in the
    /// active one (in that user order), a cursor and a block; closed.
    static func buildStore() throws -> CorruptionFixture {
        let fixture = try CorruptionFixture()
        let store = try fixture.open()
        for segment in 0 ..< segmentCount {
            for _ in 0 ..< messagesPerUserPerSegment {
                for user in users { try fixture.append(store, user: user, size: 30 + Int(user)) }
            }
            if segment == 0 {
                try store.ack(user: UserID(1), device: DeviceID(1), seq: Seq(2))
                try store.block(user: UserID(2), blocked: UserID(9))
            }
            if segment < segmentCount - 1 { try store.rollSegment() }
        }
        try store.close()
        XCTAssertEqual(fixture.segmentBases.count, segmentCount)
        return fixture
    }

    /// The ways the derived files may stand next to the damaged log.
    enum Derived: CaseIterable {
        case indexAndCheckpoints, noIndex, noCheckpoints, neither
    }

    static func remove(_ derived: Derived, segment: LogPosition, from fixture: CorruptionFixture) throws {
        if derived == .noIndex || derived == .neither { try fixture.remove(CorruptionFixture.indexPath(segment)) }
        if derived == .noCheckpoints || derived == .neither {
            for position in fixture.checkpointPositions { try fixture.remove(CorruptionFixture.checkpointPath(position)) }
        }
    }

    /// Flips one bit of user `user`'s record `seq` at `byte` bytes into the record.
    static func damage(_ fixture: CorruptionFixture, user: UInt64, seq: UInt32, byte: Int) throws -> LogPosition {
        let record = try XCTUnwrap(fixture.locate(user: user, seq: seq))
        XCTAssertNotEqual(record.base, fixture.segmentBases.last, "the record is in a sealed segment")
        fixture.fileSystem.flipBit(path: CorruptionFixture.segmentPath(record.base), offset: record.offset + byte, bit: 3)
        return record.base
    }

    /// Opening does not re-verify sealed data that a valid index and a checkpoint already
    /// describe (it must not rescan a large store): such damage is found by the read that
    /// meets it, which answers an explicit `.lost` for the seq, and by seqbox-fsck.
    private func assertFoundByReads(_ fixture: CorruptionFixture, user: UInt64, seq: UInt32, _ context: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        do {
            let store = try fixture.open()
            defer { try? store.close() }
            let read = try store.read(user: UserID(user), after: Seq(seq - 1), limit: 10)
            XCTAssertEqual(read.status, .lost(first: Seq(seq), last: Seq(seq)), context, file: file, line: line)
            XCTAssertGreaterThanOrEqual(store.stats().damagedReads, 1, context, file: file, line: line)
        } catch {
            XCTFail("\(context): \(error)", file: file, line: line)
        }
    }

    private func assertRefusesNamingTheLoss(_ fixture: CorruptionFixture, user: UInt64, seq: UInt32, segment: LogPosition, _ context: String,
                                            derived: Derived? = nil, file: StaticString = #filePath, line: UInt = #line) {
        if derived == .indexAndCheckpoints {
            return assertFoundByReads(fixture, user: user, seq: seq, context, file: file, line: line)
        }
        guard let report = corruptReport({ try fixture.open() }, context, file: file, line: line) else { return }
        XCTAssertTrue(report.lostRanges.contains(RecoveryReport.LostRange(user: UserID(user), first: Seq(seq), last: Seq(seq))),
                      "the report names user \(user) seq \(seq): \(context); \(report.summary)", file: file, line: line)
        // Where: the damaged segment, or (a loss accepted by an earlier `.openWithLoss` open) the
        // checkpoint that carries the lost seq.
        XCTAssertTrue(report.corruptions.contains { $0.segment == segment } || !report.missingSegments.isEmpty || report.checkpointUsed != nil,
                      "the report says where: \(context); \(report.summary)", file: file, line: line)
        XCTAssertFalse(report.isClean, context, file: file, line: line)
    }

    // MARK: Refusing by default

    func testFlippedBitInASealedRecordPayloadRefusesToOpenNamingTheLostSeq() throws {
        let pristine = try Self.buildStore()
        for derived in Derived.allCases {
            let fixture = pristine.copy()
            let segment = try Self.damage(fixture, user: 2, seq: 5, byte: FormatConstants.recordHeaderSize + 7)
            try Self.remove(derived, segment: segment, from: fixture)
            assertRefusesNamingTheLoss(fixture, user: 2, seq: 5, segment: segment, "payload, \(derived)", derived: derived)
        }
    }

    func testFlippedBitInEveryHeaderFieldOfASealedRecordRefusesToOpenNamingTheLostSeq() throws {
        let pristine = try Self.buildStore()
        // checksum, stored length, type, flags, reserved, user, seq, raw length, timestamp, sender, device, client id
        let fieldOffsets = [0, 8, 12, 13, 14, 16, 24, 28, 32, 40, 48, 56]
        for byte in fieldOffsets {
            for derived in [Derived.indexAndCheckpoints, .noIndex] {
                let fixture = pristine.copy()
                let segment = try Self.damage(fixture, user: 2, seq: 5, byte: byte)
                try Self.remove(derived, segment: segment, from: fixture)
                assertRefusesNamingTheLoss(fixture, user: 2, seq: 5, segment: segment, "header byte \(byte), \(derived)", derived: derived)
            }
        }
    }

    func testFlippedBitInTheLastRecordOfASealedSegmentRefusesToOpenNamingTheLostSeq() throws {
        let pristine = try Self.buildStore()
        for derived in Derived.allCases {
            let fixture = pristine.copy()
            let second = fixture.segmentBases[1]
            XCTAssertEqual(fixture.records(second).last.map { [$0.header.user.rawValue, UInt64($0.header.seq.rawValue)] }, [3, 6])
            let segment = try Self.damage(fixture, user: 3, seq: 6, byte: FormatConstants.recordHeaderSize + 1)
            XCTAssertNil(fixture.locate(user: 3, seq: 6), "the damaged record no longer verifies")
            try Self.remove(derived, segment: segment, from: fixture)
            assertRefusesNamingTheLoss(fixture, user: 3, seq: 6, segment: segment, "last record, \(derived)")
        }
    }

    // MARK: Opening with loss

    func testOpenWithLossReadsADamagedSealedRecordAsLostAndEverythingElseIntact() throws {
        let pristine = try Self.buildStore()
        for derived in Derived.allCases {
            let context = "\(derived)"
            let fixture = pristine.copy()
            let segment = try Self.damage(fixture, user: 2, seq: 5, byte: FormatConstants.recordHeaderSize + 7)
            try Self.remove(derived, segment: segment, from: fixture)

            let store = try fixture.open(.openWithLoss)
            let foundAtOpen = derived != .indexAndCheckpoints
            XCTAssertEqual(store.recoveryReport.lostRanges, foundAtOpen ? [RecoveryReport.LostRange(user: UserID(2), first: Seq(5), last: Seq(5))] : [],
                           "\(context); \(store.recoveryReport.summary)")
            do {
                let read = try store.read(user: UserID(2), after: Seq(4), limit: 10)
                XCTAssertEqual(read.status, .lost(first: Seq(5), last: Seq(5)), context)
                XCTAssertEqual(read.messages, [], context)
                XCTAssertEqual(read.newestSeq, Seq(9), context)
                XCTAssertTrue(read.hasMore, context)
            } catch {
                XCTFail("reading the damaged seq failed instead of answering lost: \(error); \(context)")
            }
            fixture.assertHoldsEverythingSent(store, lost: [2: 5 ... 5], context)
            XCTAssertEqual(store.cursor(user: UserID(1), device: DeviceID(1)), Seq(2), context)
            XCTAssertTrue(store.isBlocked(user: UserID(2), blocked: UserID(9)), context)
            fixture.assertAcceptsAppends(store, user: 2)
            fixture.assertAcceptsAppends(store, user: 1)
            try store.close()

            // The loss stays on record until a repair acknowledges it.
            assertRefusesNamingTheLoss(fixture, user: 2, seq: 5, segment: segment, "second open, \(context)", derived: derived)
            let again = try fixture.open(.openWithLoss)
            fixture.assertHoldsEverythingSent(again, lost: [2: 5 ... 5], "second open, \(context)")
            fixture.assertAcceptsAppends(again, user: 2)
            try again.close()
        }
    }

    func testOpenWithLossOfADamagedLastSealedRecordKeepsItsSeqLostAndNeverReusesIt() throws {
        let pristine = try Self.buildStore()
        for derived in Derived.allCases {
            let fixture = pristine.copy()
            _ = try Self.damage(fixture, user: 3, seq: 6, byte: 20)
            try Self.remove(derived, segment: try XCTUnwrap(fixture.segmentBases.dropLast().last), from: fixture)
            let store = try fixture.open(.openWithLoss)
            XCTAssertEqual(store.newestSeq(user: UserID(3)), Seq(9), "\(derived)")
            fixture.assertHoldsEverythingSent(store, lost: [3: 6 ... 6], "\(derived)")
            fixture.assertAcceptsAppends(store, user: 3)
            try store.close()
        }
    }
}
