import XCTest
import SeqboxFormat
@testable import SeqboxStore

/// Basic behaviour of the public store API on the real file system.
final class StoreBasicsTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "seqbox-basics-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func message(_ user: UInt64, from sender: UInt64 = 9, id: UInt64, text: String = "hello") -> NewMessage {
        NewMessage(user: UserID(user), sender: UserID(sender), device: DeviceID(1), clientMessageID: ClientMessageID(id),
                   timestampMs: 1_700_000_000_000, payload: Array(text.utf8))
    }

    func testAppendAssignsContiguousSeqsPerUserFromOne() throws {
        let store = try MailboxStore.open(directory: directory)
        defer { try? store.close() }
        XCTAssertEqual(try store.append(message(1, id: 1)).seq, Seq(1))
        XCTAssertEqual(try store.append(message(2, id: 2)).seq, Seq(1))
        XCTAssertEqual(try store.append(message(1, id: 3)).seq, Seq(2))
        let batch = try store.append(batch: [message(1, id: 4), message(1, id: 5), message(2, id: 6)])
        XCTAssertEqual(batch.map(\.seq), [Seq(3), Seq(4), Seq(2)])
        XCTAssertEqual(store.newestSeq(user: UserID(1)), Seq(4))
    }

    func testReadReturnsRecordsAfterSeqInOrderBoundedByLimitAndBytes() throws {
        let store = try MailboxStore.open(directory: directory)
        defer { try? store.close() }
        for index in 1 ... 10 { _ = try store.append(message(1, id: UInt64(index), text: "message \(index)")) }
        let read = try store.read(user: UserID(1), after: Seq(3), limit: 4)
        XCTAssertEqual(read.status, .ok)
        XCTAssertEqual(read.messages.map(\.seq), [Seq(4), Seq(5), Seq(6), Seq(7)])
        XCTAssertEqual(read.messages.first?.payload, Array("message 4".utf8))
        XCTAssertEqual(read.newestSeq, Seq(10))
        XCTAssertTrue(read.hasMore)
        let bounded = try store.read(user: UserID(1), after: .zero, limit: 10, maxBytes: 20)
        XCTAssertEqual(bounded.messages.count, 2, "9 + 9 bytes fit in 20, a third does not")
        let oneAtLeast = try store.read(user: UserID(1), after: .zero, limit: 10, maxBytes: 1)
        XCTAssertEqual(oneAtLeast.messages.count, 1, "a read always makes progress")
        let upToDate = try store.read(user: UserID(1), after: Seq(10), limit: 5)
        XCTAssertEqual(upToDate.messages, [])
        XCTAssertFalse(upToDate.hasMore)
    }

    func testDuplicateClientMessageIDReturnsOriginalSeqAndStoresNothing() throws {
        let store = try MailboxStore.open(directory: directory)
        _ = try store.append(message(1, id: 1))
        let first = try store.append(message(1, id: 2, text: "once"))
        let retry = try store.append(message(1, id: 2, text: "once"))
        XCTAssertEqual(retry, AppendResult(seq: first.seq, duplicate: true))
        XCTAssertEqual(store.newestSeq(user: UserID(1)), Seq(2))
        try store.close()
        let reopened = try MailboxStore.open(directory: directory)
        defer { try? reopened.close() }
        XCTAssertEqual(try reopened.append(message(1, id: 2, text: "once")), AppendResult(seq: Seq(2), duplicate: true))
        XCTAssertEqual(reopened.newestSeq(user: UserID(1)), Seq(2))
    }

    func testLargePayloadsAreCompressedAndReadBackIntact() throws {
        let store = try MailboxStore.open(directory: directory)
        defer { try? store.close() }
        let text = String(repeating: "compressible text ", count: 500)
        _ = try store.append(message(1, id: 1, text: text))
        XCTAssertEqual(try store.read(user: UserID(1), after: .zero, limit: 1).messages.first?.payload, Array(text.utf8))
        XCTAssertThrowsError(try store.append(NewMessage(user: UserID(1), sender: UserID(2), device: DeviceID(1), clientMessageID: ClientMessageID(9),
                                                         timestampMs: 0, payload: [UInt8](repeating: 1, count: FormatConstants.payloadSizeMax + 1))))
    }

    func testCursorsAndBlocklistPersistAcrossReopen() throws {
        var store = try MailboxStore.open(directory: directory)
        for index in 1 ... 5 { _ = try store.append(message(1, id: UInt64(index))) }
        try store.ack(user: UserID(1), device: DeviceID(7), seq: Seq(3))
        try store.ack(user: UserID(1), device: DeviceID(8), seq: Seq(5))
        XCTAssertTrue(try store.ack(user: UserID(1), device: DeviceID(7), seq: Seq(2)).duplicate, "cursors never move back")
        XCTAssertThrowsError(try store.ack(user: UserID(1), device: DeviceID(7), seq: Seq(6)))
        try store.block(user: UserID(1), blocked: UserID(66))
        try store.block(user: UserID(1), blocked: UserID(67))
        try store.unblock(user: UserID(1), blocked: UserID(67))
        try store.close()
        store = try MailboxStore.open(directory: directory)
        defer { try? store.close() }
        XCTAssertEqual(store.cursor(user: UserID(1), device: DeviceID(7)), Seq(3))
        XCTAssertEqual(store.confirmedSeq(user: UserID(1)), Seq(5))
        XCTAssertTrue(store.isBlocked(user: UserID(1), blocked: UserID(66)))
        XCTAssertFalse(store.isBlocked(user: UserID(1), blocked: UserID(67)))
    }

    /// A failing request (a message followed, in the same atomic request, by an ack beyond the
    /// newest seq) leaves no trace: its message gets no seq and is not stored, even when the
    /// request shares a group commit with requests around it.
    func testAFailedRequestInABatchAssignsNoSeqAndLeavesNeighboursContiguous() throws {
        let store = try MailboxStore.open(directory: directory)
        defer { try? store.close() }
        let group = DispatchGroup()
        let results = ResultBox()
        for round in 0 ..< 50 {
            let base = UInt64(round * 10)
            group.enter()
            store.append(batch: [message(1, id: base + 1, text: "a\(round)")]) { results.add(round * 3, $0); group.leave() }
            group.enter()
            // The same key twice in one request: the second is a duplicate of the first.
            store.append(batch: [message(1, id: base + 2, text: "b\(round)"), message(1, id: base + 2, text: "b\(round)")]) {
                results.add(round * 3 + 1, $0); group.leave()
            }
            group.enter()
            store.append(batch: [message(1, id: base + 3, text: "c\(round)")]) { results.add(round * 3 + 2, $0); group.leave() }
            group.enter()
            let doomed = NewMessage(user: UserID(1), sender: UserID(9), device: DeviceID(1), clientMessageID: ClientMessageID(base + 4),
                                    timestampMs: 1, payload: Array("never stored".utf8))
            store.submit(WriteRequest(operations: [.message(PreparedMessage(doomed)), .ack(user: UserID(1), device: DeviceID(1), seq: Seq(UInt32.max))]) { outcome in
                if case .success = outcome { results.add(-1, .failure(.closed)) }
                group.leave()
            })
        }
        group.wait()
        XCTAssertFalse(results.sawUnexpected, "a request with an ack beyond the newest seq must fail whole")
        let newest = store.newestSeq(user: UserID(1))
        XCTAssertEqual(newest, Seq(150), "three stored messages a round")
        let read = try store.read(user: UserID(1), after: .zero, limit: 1000)
        XCTAssertEqual(read.messages.map(\.seq.rawValue), Array(1 ... 150))
        XCTAssertEqual(Set(read.messages.map(\.clientMessageID.rawValue)).count, 150, "no message stored twice")
        XCTAssertFalse(read.messages.contains { $0.clientMessageID.rawValue % 10 == 4 }, "a failed request's message is not stored")
        for outcome in results.all {
            let seqs = try outcome.get()
            if seqs.count == 2 {
                XCTAssertEqual(seqs[1], AppendResult(seq: seqs[0].seq, duplicate: true))
            }
        }
    }

    func testSecondOpenOfALockedStoreFailsClearly() throws {
        let store = try MailboxStore.open(directory: directory)
        defer { try? store.close() }
        XCTAssertThrowsError(try MailboxStore.open(directory: directory)) { error in
            guard case StoreError.storeLocked = error else { return XCTFail("expected storeLocked, got \(error)") }
        }
    }

    func testRollingSegmentsAndReopeningWithoutCheckpointKeepsEverything() throws {
        var options = StoreOptions()
        options.segmentBytes = 64 << 10
        options.checkpointEverySegments = 1000
        var store = try MailboxStore.open(directory: directory, options: options)
        var expected: [UInt64: Int] = [:]
        for index in 1 ... 3000 {
            let user = UInt64(index % 7)
            _ = try store.append(message(user, id: UInt64(index), text: "payload \(index) " + String(repeating: "x", count: index % 50)))
            expected[user, default: 0] += 1
        }
        XCTAssertGreaterThan(store.stats().segments, 3)
        try store.close()
        // Remove checkpoints: the state must be rebuilt from the index files and the log.
        for name in try FileManager.default.contentsOfDirectory(atPath: directory + "/log") where name.hasPrefix("checkpoint") {
            try FileManager.default.removeItem(atPath: directory + "/log/" + name)
        }
        store = try MailboxStore.open(directory: directory, options: options)
        defer { try? store.close() }
        XCTAssertNil(store.recoveryReport.checkpointUsed)
        XCTAssertTrue(store.recoveryReport.isClean, store.recoveryReport.summary)
        for (user, count) in expected {
            XCTAssertEqual(store.newestSeq(user: UserID(user)), Seq(UInt32(count)))
            var after = Seq.zero
            while true {
                let read = try store.read(user: UserID(user), after: after, limit: 100)
                for message in read.messages {
                    XCTAssertEqual(message.seq.rawValue, after.rawValue + 1)
                    after = message.seq
                }
                if !read.hasMore { break }
            }
            XCTAssertEqual(after, Seq(UInt32(count)))
        }
        XCTAssertTrue(try store.append(message(1, id: 77)).duplicate == false)
        XCTAssertTrue(try store.append(message(1, id: 8, text: "payload 8 " + String(repeating: "x", count: 8))).duplicate, "idempotency keys are rebuilt from the log")
    }

    func testRetentionDeletesOldSegmentsAndReadsAnswerTruncated() throws {
        var options = StoreOptions()
        options.segmentBytes = 32 << 10
        options.retention = RetentionPolicy(maxBytes: 100 << 10)
        var store = try MailboxStore.open(directory: directory, options: options)
        for index in 1 ... 2000 { _ = try store.append(message(1, id: UInt64(index), text: String(repeating: "r", count: 100))) }
        try store.ack(user: UserID(1), device: DeviceID(1), seq: Seq(10))
        for index in 2001 ... 4000 { _ = try store.append(message(1, id: UInt64(index), text: String(repeating: "r", count: 100))) }
        try store.applyRetention()
        let info = store.mailboxInfo(user: UserID(1))
        XCTAssertGreaterThan(info.firstAvailable, Seq(1))
        XCTAssertEqual(info.newestSeq, Seq(4000))
        let read = try store.read(user: UserID(1), after: .zero, limit: 10)
        XCTAssertEqual(read.status, .truncated(firstAvailable: info.firstAvailable))
        XCTAssertLessThanOrEqual(store.stats().logBytes, (100 << 10) + (32 << 10))
        try store.close()
        store = try MailboxStore.open(directory: directory, options: options)
        defer { try? store.close() }
        XCTAssertEqual(store.mailboxInfo(user: UserID(1)).firstAvailable, info.firstAvailable)
        XCTAssertEqual(store.cursor(user: UserID(1), device: DeviceID(1)), Seq(10), "the ack lived in a deleted segment; the checkpoint kept it")
        let after = try store.read(user: UserID(1), after: Seq(info.firstAvailable.rawValue - 1), limit: 5)
        XCTAssertEqual(after.messages.first?.seq, info.firstAvailable)
    }
}

/// Collects completion results from the writer thread.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Int: Result<[AppendResult], StoreError>] = [:]
    private(set) var sawUnexpected = false
    func add(_ key: Int, _ result: Result<[AppendResult], StoreError>) {
        lock.lock()
        defer { lock.unlock() }
        if key < 0 { sawUnexpected = true } else { results[key] = result }
    }
    var all: [Result<[AppendResult], StoreError>] {
        lock.lock()
        defer { lock.unlock() }
        return Array(results.values)
    }
}

/// The idempotency window's table against a plain dictionary model.
final class DedupWindowTests: XCTestCase {
    func testWindowRemembersExactlyTheMostRecentKeys() {
        for seed in UInt64(1) ... 10 {
            var random = SeededRandom(seed: seed)
            let capacity = 1 + random.nextInt(below: 300)
            let window = DedupWindow(capacity: capacity)
            var order: [UInt64] = []
            var latest: [UInt64: UInt32] = [:]
            for step in 0 ..< 3000 {
                // Few distinct keys with colliding low bits, so probe chains and repeats happen.
                let key = UInt64(random.nextInt(below: 600)) << 20 | UInt64(random.nextInt(below: 4))
                window.insert(DedupWindow.Entry(keyHash: key, user: 1, seq: UInt32(step)))
                order.append(key)
                latest[key] = UInt32(step)
                guard step % 7 == 0 else { continue }
                let recent = order.suffix(capacity)
                for probe in Set(order.suffix(capacity + 50)) {
                    if let index = recent.lastIndex(of: probe) {
                        XCTAssertEqual(window.lookup(probe)?.seq, UInt32(index), "seed \(seed) step \(step)")
                    } else {
                        XCTAssertNil(window.lookup(probe), "seed \(seed) step \(step)")
                    }
                }
                if step > 400 { break }
            }
            XCTAssertEqual(window.count, min(capacity, order.count))
        }
    }

    func testMailboxStateStaysThirtyTwoBytes() {
        XCTAssertEqual(MemoryLayout<MailboxState>.stride, 32, "FORMAT.md \"Memory cost\" assumes it")
    }
}
