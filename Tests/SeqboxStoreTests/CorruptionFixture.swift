import XCTest
import SeqboxFormat
@testable import SeqboxStore

/// A store on a `SimulatedFileSystem` plus the byte surgery of the corruption tests: where each
/// segment's records lie, what every mailbox should hold, and helpers to damage files and check
/// what reopening promises (Recovery.swift, FORMAT.md "Recovery").
final class CorruptionFixture {
    static let directory = "/store"
    static let logDirectory = directory + "/" + FormatConstants.segmentDirectoryName
    /// Small segments, so a handful of messages spans several of them.
    static let segmentBytes = 8192

    private(set) var fileSystem: SimulatedFileSystem
    /// The payload of every message each user was sent, by seq - 1 (seq 1 first).
    var sent: [UInt64: [[UInt8]]] = [:]
    private var nextClientMessageID: UInt64 = 1

    init() throws {
        fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectoryDurably(Self.directory)
    }

    private init(fileSystem: SimulatedFileSystem, sent: [UInt64: [[UInt8]]], nextClientMessageID: UInt64) {
        self.fileSystem = fileSystem
        self.sent = sent
        self.nextClientMessageID = nextClientMessageID
    }

    /// An independent copy of everything durable: what a power cut at this instant would leave
    /// (after a close: the whole closed store), a clean starting point for one more round of
    /// surgery. This instance stays readable, but no longer writable.
    func copy() -> CorruptionFixture {
        CorruptionFixture(fileSystem: fileSystem.crash(seed: 0, tearing: false), sent: sent, nextClientMessageID: nextClientMessageID)
    }

    func options(_ policy: CorruptionPolicy = .refuse) -> StoreOptions {
        var options = StoreOptions()
        options.fileSystem = fileSystem
        options.segmentBytes = Self.segmentBytes
        options.corruptionPolicy = policy
        // Checkpoints only at close (and when recovery asks), so each test decides what they cover.
        options.checkpointEverySegments = 1000
        options.clock = { 1_700_000_000_000 }
        return options
    }

    func open(_ policy: CorruptionPolicy = .refuse) throws -> MailboxStore {
        try MailboxStore.open(directory: Self.directory, options: options(policy))
    }

    // MARK: Messages

    /// A payload of `size` bytes, none of them zero (so every byte of it is visibly written),
    /// random (so LZ4 cannot shrink it: the record size follows from `size` alone), and
    /// different for every (user, seq).
    static func payload(user: UInt64, seq: Int, size: Int) -> [UInt8] {
        var random = SeededRandom(seed: user << 32 | UInt64(seq))
        return (0 ..< size).map { _ in UInt8(truncatingIfNeeded: random.next() % 255 + 1) }
    }

    /// The payload size that makes a message record exactly `recordSize` bytes.
    static func payloadSize(forRecordSize recordSize: Int) -> Int {
        precondition(recordSize % FormatConstants.recordAlignment == 0 && recordSize >= FormatConstants.recordHeaderSize)
        return recordSize - FormatConstants.recordHeaderSize
    }

    /// Appends one message for `user` and records what it holds. Returns the assigned seq.
    @discardableResult
    func append(_ store: MailboxStore, user: UInt64, size: Int = 24, file: StaticString = #filePath, line: UInt = #line) throws -> Seq {
        let seq = (sent[user]?.count ?? 0) + 1
        let payload = Self.payload(user: user, seq: seq, size: size)
        let message = NewMessage(user: UserID(user), sender: UserID(user + 1000), device: DeviceID(7),
                                 clientMessageID: ClientMessageID(nextClientMessageID), timestampMs: 1_700_000_000_000 + UInt64(seq),
                                 payload: payload)
        nextClientMessageID += 1
        let result = try store.append(message)
        XCTAssertEqual(result, AppendResult(seq: Seq(UInt32(seq)), duplicate: false), "append for user \(user)", file: file, line: line)
        sent[user, default: []].append(payload)
        return result.seq
    }

    /// Forgets the newest message of `user` (recovery dropped it; its seq will be reused).
    func forgetNewest(user: UInt64) {
        sent[user]?.removeLast()
    }

    /// Checks that `store` holds exactly what was sent to every user (seqs in `lost` excepted:
    /// they must read as `.lost`).
    func assertHoldsEverythingSent(_ store: MailboxStore, lost: [UInt64: ClosedRange<UInt32>] = [:], _ context: String = "",
                                   file: StaticString = #filePath, line: UInt = #line) {
        Self.assertHolds(store, sent: sent, lost: lost, context, file: file, line: line)
    }

    /// Checks that `store` holds exactly `sent` (payloads by seq - 1 of each user), seqs in
    /// `lost` reading as `.lost`.
    static func assertHolds(_ store: MailboxStore, sent: [UInt64: [[UInt8]]], lost: [UInt64: ClosedRange<UInt32>] = [:], _ context: String = "",
                            file: StaticString = #filePath, line: UInt = #line) {
        for (user, payloads) in sent.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(store.newestSeq(user: UserID(user)), Seq(UInt32(payloads.count)), "user \(user) newest seq \(context)", file: file, line: line)
            var after: UInt32 = 0
            var rounds = 0
            while after < UInt32(payloads.count), rounds < payloads.count + 2 {
                rounds += 1
                let read: ReadResult
                do {
                    read = try store.read(user: UserID(user), after: Seq(after), limit: 1000)
                } catch {
                    return XCTFail("user \(user) read after \(after) failed: \(error) \(context)", file: file, line: line)
                }
                if let range = lost[user], range.contains(after + 1) {
                    XCTAssertEqual(read.status, .lost(first: Seq(range.lowerBound), last: Seq(range.upperBound)),
                                   "user \(user) after \(after) \(context)", file: file, line: line)
                    XCTAssertEqual(read.messages, [], file: file, line: line)
                    after = range.upperBound
                    continue
                }
                XCTAssertEqual(read.status, .ok, "user \(user) after \(after) \(context)", file: file, line: line)
                guard !read.messages.isEmpty else {
                    return XCTFail("user \(user): no progress reading after \(after) \(context)", file: file, line: line)
                }
                for message in read.messages {
                    let seq = message.seq.rawValue
                    XCTAssertEqual(seq, after + 1, "user \(user) seqs are contiguous \(context)", file: file, line: line)
                    if seq >= 1 && Int(seq) <= payloads.count {
                        XCTAssertEqual(message.payload, payloads[Int(seq) - 1], "user \(user) seq \(seq) payload \(context)", file: file, line: line)
                    }
                    after = seq
                }
            }
            XCTAssertEqual(after, UInt32(payloads.count), "user \(user) read to the end \(context)", file: file, line: line)
        }
    }

    /// Appends one more message to `user` and checks it gets the next seq and reads back.
    func assertAcceptsAppends(_ store: MailboxStore, user: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        let expected = (sent[user]?.count ?? 0) + 1
        do {
            let seq = try append(store, user: user, file: file, line: line)
            XCTAssertEqual(seq, Seq(UInt32(expected)), "the seq continues after reopening", file: file, line: line)
            let read = try store.read(user: UserID(user), after: Seq(UInt32(expected - 1)), limit: 1)
            XCTAssertEqual(read.messages.first?.payload, sent[user]?.last, "the new message reads back", file: file, line: line)
        } catch {
            XCTFail("append after reopening failed: \(error)", file: file, line: line)
        }
    }

    // MARK: Files

    var segmentBases: [LogPosition] {
        ((try? fileSystem.list(Self.logDirectory)) ?? []).compactMap(FileNames.segmentBase).sorted()
    }

    var checkpointPositions: [LogPosition] {
        ((try? fileSystem.list(Self.logDirectory)) ?? []).compactMap(FileNames.checkpointPosition).sorted()
    }

    static func segmentPath(_ base: LogPosition) -> String { logDirectory + "/" + FileNames.segment(base) }
    static func indexPath(_ base: LogPosition) -> String { logDirectory + "/" + FileNames.index(base) }
    static func checkpointPath(_ position: LogPosition) -> String { logDirectory + "/" + FileNames.checkpoint(position) }

    func bytes(_ path: String) -> [UInt8] { fileSystem.contents(of: path) ?? [] }

    /// The valid records of a segment file, as the scanner sees them.
    func records(_ base: LogPosition) -> [(offset: Int, header: RecordHeader)] {
        let bytes = bytes(Self.segmentPath(base))
        return bytes.withUnsafeBytes { raw in
            var found: [(offset: Int, header: RecordHeader)] = []
            var scanner = SegmentScanner(bytes: raw, base: base)
            while let event = scanner.next() {
                if case .record(let offset, let header) = event { found.append((offset, header)) }
            }
            return found
        }
    }

    /// The record of `user` at `seq`: its segment and offset.
    func locate(user: UInt64, seq: UInt32) -> (base: LogPosition, offset: Int, header: RecordHeader)? {
        for base in segmentBases {
            for record in records(base) where record.header.type == .message && record.header.user == UserID(user) && record.header.seq == Seq(seq) {
                return (base, record.offset, record.header)
            }
        }
        return nil
    }

    /// Overwrites bytes `range` of `path` with `replacement(offset)`, durably.
    func overwrite(_ path: String, _ range: Range<Int>, with replacement: (Int) -> UInt8) {
        var content = bytes(path)
        for offset in range { content[offset] = replacement(offset) }
        fileSystem.setContents(content, of: path)
    }

    func zero(_ path: String, _ range: Range<Int>) { overwrite(path, range) { _ in 0 } }

    /// Writes little-endian `value` at `offset` of `path`, durably.
    func store<T: FixedWidthInteger>(_ value: T, at offset: Int, of path: String) {
        var content = bytes(path)
        content.withUnsafeMutableBytes { $0.storeLE(value, at: offset) }
        fileSystem.setContents(content, of: path)
    }

    func remove(_ path: String) throws {
        try fileSystem.remove(path)
        try fileSystem.syncDirectory(Self.logDirectory)
    }

    /// The offset of the last nonzero byte of `bytes` at or after `from`, or nil.
    static func lastNonzero(_ bytes: [UInt8], from: Int) -> Int? {
        var index = bytes.count - 1
        while index >= from {
            if bytes[index] != 0 { return index }
            index -= 1
        }
        return nil
    }
}

extension XCTestCase {
    /// Runs `body`, which must throw `StoreError.corrupt`; returns its report.
    func corruptReport(_ body: () throws -> MailboxStore, _ context: String = "", file: StaticString = #filePath, line: UInt = #line) -> RecoveryReport? {
        do {
            let store = try body()
            try? store.close()
            XCTFail("open succeeded; expected StoreError.corrupt \(context)", file: file, line: line)
        } catch StoreError.corrupt(let report) {
            return report
        } catch {
            XCTFail("expected StoreError.corrupt, got \(error) \(context)", file: file, line: line)
        }
        return nil
    }
}

// MARK: - A store whose records all sit in the active segment

extension CorruptionFixture {
    /// Payload of the last record: odd, so the record ends in alignment padding.
    static let lastPayloadBytes = 2 * FormatConstants.recordAlignment + 5

    /// Three users' messages in the active segment, user 1's last; closed.
    static func buildClosedStore() throws -> CorruptionFixture {
        let fixture = try CorruptionFixture()
        let store = try fixture.open()
        for round in 0 ..< 3 {
            for user: UInt64 in [2, 3, 1] { try fixture.append(store, user: user, size: 10 + round * 7) }
        }
        try fixture.append(store, user: 1, size: lastPayloadBytes)
        try store.close()
        XCTAssertEqual(fixture.segmentBases.count, 1, "everything is in the active segment")
        return fixture
    }

    /// Where the active segment's last record lies: offset, size with padding, end of its data.
    struct LastRecord {
        var base: LogPosition
        var offset: Int
        var size: Int
        var dataEnd: Int
        var path: String { CorruptionFixture.segmentPath(base) }
    }

    static func lastRecord(_ fixture: CorruptionFixture) throws -> LastRecord {
        let base = try XCTUnwrap(fixture.segmentBases.last)
        let record = try XCTUnwrap(fixture.records(base).last)
        XCTAssertEqual(record.header.user, UserID(1))
        XCTAssertEqual(record.header.storedLength, UInt32(lastPayloadBytes))
        return LastRecord(base: base, offset: record.offset, size: record.header.recordSize,
                          dataEnd: record.offset + FormatConstants.recordHeaderSize + Int(record.header.storedLength))
    }
}
