import Foundation
import SeqboxFormat
import SeqboxStore
import XCTest

/// Many threads at once on the real file system: appenders (blocking and completion-based),
/// readers (copies and borrowed views), an acker, a blocker and a maintenance thread forcing
/// checkpoints and rolls. Readers must only ever see contiguous prefixes of what was appended,
/// never a seq going back; the final state must match what was acknowledged, before and after
/// a reopen. `make tsan` runs this class under ThreadSanitizer.
final class ConcurrencyTests: XCTestCase {
    static let users: UInt64 = 8
    static let appenders = 4
    static let appendsPerThread = 150
    static let readers = 2
    static let devices: UInt64 = 3
    /// Small segments so rolls happen under the readers' feet.
    static let segmentBytes = 64 << 10
    /// Bound on the whole run (TSan builds are slow).
    static let runTimeoutSeconds: TimeInterval = 300

    private var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "seqbox-concurrency-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private var options: StoreOptions {
        var options = StoreOptions()
        options.segmentBytes = Self.segmentBytes
        options.checkpointEverySegments = 2
        return options
    }

    static func payload(user: UInt64, clientMessageID: UInt64) -> [UInt8] {
        Array("user=\(user) cmid=\(clientMessageID);".utf8) + [UInt8](repeating: UInt8(truncatingIfNeeded: clientMessageID), count: Int(clientMessageID % 900))
    }

    /// Shared bookkeeping of the threads.
    final class Ledger: @unchecked Sendable {
        private let lock = NSLock()
        private var messages: [UInt64: [UInt32: UInt64]] = [:]
        private var cursors: [UInt64: UInt32] = [:]
        private var blocks: [UInt64: Bool] = [:]
        private var problems: [String] = []

        func appended(user: UInt64, seq: UInt32, clientMessageID: UInt64) {
            lock.withLock {
                if messages[user, default: [:]].updateValue(clientMessageID, forKey: seq) != nil {
                    problems.append("user \(user) seq \(seq) was handed out twice")
                }
            }
        }
        func acked(user: UInt64, device: UInt64, seq: UInt32) {
            lock.withLock { cursors[user << 8 | device] = max(cursors[user << 8 | device] ?? 0, seq) }
        }
        func blocked(pair: UInt64, _ value: Bool) { lock.withLock { blocks[pair] = value } }
        func problem(_ text: String) { lock.withLock { problems.append(text) } }

        var appendedMessages: [UInt64: [UInt32: UInt64]] { lock.withLock { messages } }
        var ackedCursors: [UInt64: UInt32] { lock.withLock { cursors } }
        var blockStates: [UInt64: Bool] { lock.withLock { blocks } }
        var recordedProblems: [String] { lock.withLock { problems } }
    }

    /// Set once; read from any thread.
    final class StopFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        func isSet() -> Bool { lock.withLock { value } }
    }

    func testConcurrentAppendsReadsAcksAndBlocksKeepMailboxesContiguous() throws {
        let store = try MailboxStore.open(directory: directory, options: options)
        let ledger = Ledger()
        let writers = DispatchGroup()
        let everyone = DispatchGroup()
        let writersDone = StopFlag()

        func start(_ group: [DispatchGroup], _ body: @escaping @Sendable () -> Void) {
            for member in group { member.enter() }
            Thread {
                body()
                for member in group { member.leave() }
            }.start()
        }
        for thread in 0 ..< Self.appenders {
            start([writers, everyone]) { Self.append(thread: thread, store: store, ledger: ledger) }
        }
        for reader in 0 ..< Self.readers {
            start([everyone]) { Self.read(reader: reader, store: store, ledger: ledger, until: writersDone.isSet) }
        }
        start([everyone]) { Self.acknowledge(store: store, ledger: ledger, until: writersDone.isSet) }
        start([everyone]) { Self.blockAndUnblock(store: store, ledger: ledger, until: writersDone.isSet) }
        start([everyone]) { Self.maintain(store: store, ledger: ledger, until: writersDone.isSet) }

        XCTAssertEqual(writers.wait(timeout: .now() + Self.runTimeoutSeconds), .success, "appenders did not finish")
        writersDone.set()
        XCTAssertEqual(everyone.wait(timeout: .now() + Self.runTimeoutSeconds), .success, "readers, acker, blocker or maintenance did not finish")
        XCTAssertEqual(ledger.recordedProblems, [])

        try assertFinalState(store, ledger: ledger, "while open")
        try store.close()
        let reopened = try MailboxStore.open(directory: directory, options: options)
        defer { try? reopened.close() }
        XCTAssertTrue(reopened.recoveryReport.isClean, "\(reopened.recoveryReport)")
        try assertFinalState(reopened, ledger: ledger, "after reopen")
    }

    // MARK: Threads

    private static func append(thread: Int, store: MailboxStore, ledger: Ledger) {
        var random = SystemRandomNumberGenerator()
        var counter: UInt64 = 0
        var sent = 0
        while sent < appendsPerThread {
            let count = min(1 + Int.random(in: 0 ..< 3, using: &random), appendsPerThread - sent)
            let messages = (0 ..< count).map { _ -> NewMessage in
                counter += 1
                let user = UInt64.random(in: 1 ... users, using: &random)
                let id = UInt64(thread) << 32 | counter
                return NewMessage(user: UserID(user), sender: UserID(500 + UInt64(thread)), device: DeviceID(1), clientMessageID: ClientMessageID(id),
                                  timestampMs: 1_700_000_000_000, payload: payload(user: user, clientMessageID: id))
            }
            sent += count
            let record: @Sendable (Result<[AppendResult], StoreError>) -> Void = { result in
                switch result {
                case .success(let results):
                    for (message, outcome) in zip(messages, results) {
                        ledger.appended(user: message.user.rawValue, seq: outcome.seq.rawValue, clientMessageID: message.clientMessageID.rawValue)
                    }
                case .failure(let error):
                    ledger.problem("append failed: \(error)")
                }
            }
            if Bool.random(using: &random) {
                record(Result { () throws(StoreError) in try store.append(batch: messages) })
            } else {
                let done = DispatchSemaphore(value: 0)
                store.append(batch: messages) { result in
                    record(result)
                    done.signal()
                }
                if done.wait(timeout: .now() + runTimeoutSeconds) == .timedOut { return ledger.problem("append completion never came") }
            }
        }
    }

    /// Reads random ranges: each answer is a contiguous run starting right after `after`, with
    /// the payload that was sent, and a mailbox's newest seq never goes back.
    private static func read(reader: Int, store: MailboxStore, ledger: Ledger, until done: @escaping () -> Bool) {
        var newestSeen: [UInt64: UInt32] = [:]
        let deadline = Date(timeIntervalSinceNow: runTimeoutSeconds)
        var rounds = 0
        while !done() || rounds < 10, Date() < deadline {
            rounds += 1
            let user = UInt64.random(in: 1 ... users)
            let newest = store.newestSeq(user: UserID(user)).rawValue
            if newest < newestSeen[user] ?? 0 { ledger.problem("reader \(reader): user \(user) newest seq went back from \(newestSeen[user]!) to \(newest)") }
            newestSeen[user] = newest
            let after = UInt32.random(in: 0 ... newest)
            do {
                if rounds % 2 == 0 {
                    let result = try store.read(user: UserID(user), after: Seq(after), limit: 100)
                    check(result.messages.map { ($0.seq, $0.clientMessageID, $0.payload) }, status: result.status, user: user, after: after, reader: reader, ledger: ledger)
                } else {
                    var seen: [(Seq, ClientMessageID, [UInt8])] = []
                    let summary = try store.visit(user: UserID(user), after: Seq(after), limit: 100) { view in
                        seen.append((view.seq, view.header.clientMessageID, view.payload() ?? []))
                    }
                    check(seen, status: summary.status, user: user, after: after, reader: reader, ledger: ledger)
                }
            } catch {
                ledger.problem("reader \(reader): read failed: \(error)")
            }
            _ = store.mailboxInfo(user: UserID(user))
            _ = store.stats()
            _ = store.users()
        }
    }

    private static func check(_ messages: [(Seq, ClientMessageID, [UInt8])], status: ReadStatus, user: UInt64, after: UInt32, reader: Int, ledger: Ledger) {
        if status != .ok { return ledger.problem("reader \(reader): user \(user) after \(after) answered \(status)") }
        for (offset, (seq, id, payload)) in messages.enumerated() {
            if seq.rawValue != after + 1 + UInt32(offset) {
                return ledger.problem("reader \(reader): user \(user) after \(after): seq \(seq) at position \(offset)")
            }
            if payload != Self.payload(user: user, clientMessageID: id.rawValue) {
                return ledger.problem("reader \(reader): user \(user) seq \(seq): payload differs from what was sent")
            }
        }
    }

    private static func acknowledge(store: MailboxStore, ledger: Ledger, until done: @escaping () -> Bool) {
        let deadline = Date(timeIntervalSinceNow: runTimeoutSeconds)
        while !done(), Date() < deadline {
            let user = UInt64.random(in: 1 ... users)
            let newest = store.newestSeq(user: UserID(user)).rawValue
            guard newest > 0 else { continue }
            let device = UInt64.random(in: 1 ... devices)
            let seq = UInt32.random(in: 1 ... newest)
            do {
                try store.ack(user: UserID(user), device: DeviceID(device), seq: Seq(seq))
                ledger.acked(user: user, device: device, seq: seq)
            } catch {
                ledger.problem("ack failed: \(error)")
            }
        }
    }

    private static func blockAndUnblock(store: MailboxStore, ledger: Ledger, until done: @escaping () -> Bool) {
        let deadline = Date(timeIntervalSinceNow: runTimeoutSeconds)
        while !done(), Date() < deadline {
            let user = UInt64.random(in: 1 ... users)
            let blocked = UInt64.random(in: 900 ... 903)
            let value = Bool.random()
            do {
                if value { try store.block(user: UserID(user), blocked: UserID(blocked)) } else { try store.unblock(user: UserID(user), blocked: UserID(blocked)) }
                ledger.blocked(pair: user << 16 | blocked, value)
            } catch {
                ledger.problem("block/unblock failed: \(error)")
            }
            _ = store.isBlocked(user: UserID(user), blocked: UserID(blocked))
            _ = store.blockedUsers(user: UserID(user))
        }
    }

    private static func maintain(store: MailboxStore, ledger: Ledger, until done: @escaping () -> Bool) {
        let deadline = Date(timeIntervalSinceNow: runTimeoutSeconds)
        var turn = 0
        while !done(), Date() < deadline {
            turn += 1
            do {
                if turn % 3 == 0 { try store.checkpoint() } else { try store.rollSegment() }
            } catch {
                ledger.problem("checkpoint/roll failed: \(error)")
            }
            usleep(5_000)
        }
    }

    // MARK: Final state

    private func assertFinalState(_ store: MailboxStore, ledger: Ledger, _ context: String) throws {
        let appended = ledger.appendedMessages
        XCTAssertEqual(appended.values.reduce(0) { $0 + $1.count }, Self.appenders * Self.appendsPerThread, context)
        for user in 1 ... Self.users {
            let expected = appended[user] ?? [:]
            XCTAssertEqual(store.newestSeq(user: UserID(user)).rawValue, UInt32(expected.count), "\(context): user \(user)")
            let read = try store.read(user: UserID(user), after: .zero, limit: 1000)
            XCTAssertEqual(read.messages.map(\.seq.rawValue), (0 ..< expected.count).map { UInt32($0 + 1) }, "\(context): user \(user)")
            for message in read.messages {
                XCTAssertEqual(message.clientMessageID.rawValue, expected[message.seq.rawValue], "\(context): user \(user) seq \(message.seq)")
                XCTAssertEqual(message.payload, Self.payload(user: user, clientMessageID: message.clientMessageID.rawValue), "\(context): user \(user) seq \(message.seq)")
            }
            for device in 1 ... Self.devices {
                XCTAssertEqual(store.cursor(user: UserID(user), device: DeviceID(device)).rawValue, ledger.ackedCursors[user << 8 | device] ?? 0,
                               "\(context): cursor of user \(user) device \(device)")
            }
        }
        for (pair, value) in ledger.blockStates {
            XCTAssertEqual(store.isBlocked(user: UserID(pair >> 16), blocked: UserID(pair & 0xFFFF)), value, "\(context): block \(pair >> 16) -> \(pair & 0xFFFF)")
        }
    }
}
