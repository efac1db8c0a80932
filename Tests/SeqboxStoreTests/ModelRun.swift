import Foundation
import SeqboxFormat
import SeqboxStore

/// The store and the model disagree: ends the run of one seed, saying where.
struct ModelDivergence: Error, CustomStringConvertible {
    var description: String
}

/// One seeded run of the model-based test: a random sequence of store operations, each checked
/// against `ModelState`, with the whole visible state compared after every step. The seed fixes
/// the configuration and every operation, so a failure replays exactly.
final class ModelRun {
    enum Storage: String { case simulated, disk }

    /// Mailbox owners the operations use; `strangerUser` never receives a message.
    static let users: [UInt64] = [1, 2, 3, 4, 5]
    static let strangerUser: UInt64 = 99
    static let blockOnlyUser: UInt64 = 50
    static let senders: [UInt64] = [100, 101, 102]
    static let devices: [UInt64] = [1, 2, 3]
    /// How many recent operations a divergence report lists.
    static let historyKept = 16
    /// Every mailbox is read in full after this many steps, and after every reopening, crash,
    /// roll, checkpoint and retention run; the other checks run after every step.
    static let fullReadEvery = 4

    let seed: UInt64
    let storage: Storage
    let directory: String
    private var random: SeededRandom
    private(set) var options = StoreOptions()
    private var model = ModelState()
    private var store: MailboxStore?
    private var simulated: SimulatedFileSystem?
    private var step = 0
    private var history: [String] = []
    private var nextClientMessageID: UInt64 = 1
    /// Set by operations that reopen the store or move segments around.
    private var structuralChange = false
    /// Operations run, by kind (the test checks the mix really exercised each kind).
    private(set) var counts: [String: Int] = [:]

    init(seed: UInt64, storage: Storage, directory: String) {
        self.seed = seed
        self.storage = storage
        self.directory = directory
        random = SeededRandom(seed: seed)
        options.segmentBytes = [4096, 8192, 16384][random.nextInt(below: 3)]
        options.checkpointEverySegments = 1 + random.nextInt(below: 4)
        if random.nextInt(below: 2) == 0 {
            options.retention = RetentionPolicy(maxBytes: Int64(options.segmentBytes * (2 + random.nextInt(below: 3))))
        }
        options.durability = .sync
        options.clock = { 1_700_000_000_000 }
    }

    var configuration: String {
        "segmentBytes \(options.segmentBytes), checkpointEverySegments \(options.checkpointEverySegments), " +
            "retention \(options.retention.maxBytes.map { "maxBytes \($0)" } ?? "off")"
    }

    // MARK: Running

    /// Runs `operations` random operations, checking after each; throws at the first divergence.
    func run(operations: Int) throws {
        switch storage {
        case .simulated:
            let fileSystem = SimulatedFileSystem()
            try fileSystem.createDirectoryDurably(directory)
            simulated = fileSystem
            options.fileSystem = fileSystem
        case .disk:
            options.fileSystem = PosixFileSystem()
        }
        try open()
        try checkState(readEverything: true, mayRetain: false)
        for index in 0 ..< operations {
            step = index + 1
            structuralChange = false
            let mayRetain = try runOneOperation()
            try checkState(readEverything: structuralChange || step % Self.fullReadEvery == 0, mayRetain: mayRetain)
        }
        try reopen()
        try checkState(readEverything: true, mayRetain: false)
    }

    /// Closes the store if it is open (after a divergence, or at the end).
    func close() {
        try? store?.close()
        store = nil
    }

    private func open() throws {
        do {
            store = try MailboxStore.open(directory: directory, options: options)
        } catch {
            throw divergence("open failed: \(error)")
        }
        let report = store!.recoveryReport
        try expect(report.isClean && report.tornTail == nil && report.lostRanges.isEmpty, "recovery after a clean stop: \(report)")
        try expect(report.checkpointProblems.isEmpty, "checkpoint problems after a clean stop: \(report)")
    }

    private func reopen() throws {
        do { try store?.close() } catch { throw divergence("close failed: \(error)") }
        store = nil
        try open()
    }

    /// Picks and runs one operation; returns true if it may have rolled a segment (and so run
    /// retention): every operation that writes a record may.
    private func runOneOperation() throws -> Bool {
        let roll = random.nextInt(below: 1000)
        switch roll {
        case 0 ..< 330: try appendOne(); return true
        case 330 ..< 430: try appendBatch(); return true
        case 430 ..< 440: try appendOversized(); return false
        case 440 ..< 620: try read(visiting: false); return false
        case 620 ..< 660: try read(visiting: true); return false
        case 660 ..< 670: try readWithBadArguments(); return false
        // Acks and blocks are records too: one that does not fit the active segment rolls it.
        case 670 ..< 770: try ack(); return true
        case 770 ..< 840: try blockOrUnblock(); return true
        case 840 ..< 870: try record("reopen") { try reopen() }; return false
        case 870 ..< 890:
            if storage == .simulated { try crashAndReopen() } else { try record("reopen") { try reopen() } }
            return false
        case 890 ..< 930: try record("rollSegment") { try store!.rollSegment() }; return true
        case 930 ..< 960: try record("checkpoint") { try store!.checkpoint() }; return false
        default: try applyRetention(); return true
        }
    }

    // MARK: Operations

    private func appendOne() throws {
        let message: NewMessage
        if !model.appended.isEmpty && random.nextInt(below: 6) == 0 {
            message = model.appended[random.nextInt(below: model.appended.count)]
            note("append retry of user \(message.user) client id \(message.clientMessageID)")
        } else {
            message = newMessage(payloadBytes: payloadSize())
            note("append user \(message.user) \(message.payload.count) bytes")
        }
        let expected = model.append(batch: [message])
        let actual: AppendResult
        do { actual = try store!.append(message) } catch { throw divergence("append failed: \(error)") }
        try expect(actual == expected[0], "append result \(actual), expected \(expected[0])")
    }

    private func appendBatch() throws {
        let count = 2 + random.nextInt(below: 5)
        let large = random.nextInt(below: 6) == 0
        var messages: [NewMessage] = []
        for _ in 0 ..< count {
            let pick = random.nextInt(below: 10)
            if pick == 0, let earlier = messages.last {
                messages.append(earlier)
            } else if pick == 1, !model.appended.isEmpty {
                messages.append(model.appended[random.nextInt(below: model.appended.count)])
            } else {
                let size = large ? options.payloadBytesMax - random.nextInt(below: 64) : payloadSize()
                messages.append(newMessage(payloadBytes: size))
            }
        }
        // A batch must fit one segment (batches beyond that have their own test, ModelEdgeCaseTests):
        // keep the longest prefix that fits, so large batches fill a segment to the brim.
        let capacity = options.segmentBytes - FormatConstants.segmentHeaderSize
        while messages.count > 1 && messages.reduce(0, { $0 + RecordCodec.recordSize(storedLength: $1.payload.count) }) > capacity {
            messages.removeLast()
        }
        note("batch of \(messages.count) (\(messages.map { "u\($0.user):\($0.payload.count)" }.joined(separator: " ")))")
        var next = model
        let expected = next.append(batch: messages)
        let actual: [AppendResult]
        do { actual = try store!.append(batch: messages) } catch { throw divergence("batch failed: \(error)") }
        try expect(actual == expected, "batch results \(actual), expected \(expected)")
        model = next
    }

    private func appendOversized() throws {
        let size = options.payloadBytesMax + 1 + random.nextInt(below: 100)
        let messages = [newMessage(payloadBytes: 10), newMessage(payloadBytes: size)]
        note("batch with an oversized payload of \(size) bytes")
        do {
            _ = try store!.append(batch: messages)
            throw divergence("a payload of \(size) bytes (max \(options.payloadBytesMax)) was accepted")
        } catch StoreError.payloadTooLarge(let reported, let max) {
            try expect(reported == size && max == options.payloadBytesMax, "payloadTooLarge(\(reported), \(max))")
        } catch let error as ModelDivergence {
            throw error
        } catch {
            throw divergence("oversized append failed with \(error)")
        }
    }

    private func read(visiting: Bool) throws {
        let user = random.nextInt(below: 10) == 0 ? Self.strangerUser : Self.users[random.nextInt(below: Self.users.count)]
        let newest = model.newestSeq(user)
        let after: UInt32
        switch random.nextInt(below: 4) {
        case 0: after = 0
        case 1: after = model.firstAvailable(user) - 1 + UInt32(random.nextInt(below: 3))
        default: after = UInt32(random.nextInt(below: Int(newest) + 3))
        }
        let limit = random.nextInt(below: 8) == 0 ? options.readLimitMax : 1 + random.nextInt(below: 20)
        let maxBytes: Int
        switch random.nextInt(below: 3) {
        case 0: maxBytes = .max
        case 1: maxBytes = 1 + random.nextInt(below: 3 * options.payloadBytesMax)
        default: maxBytes = boundaryMaxBytes(user: user, after: after)
        }
        note("\(visiting ? "visit" : "read") user \(user) after \(after) limit \(limit) maxBytes \(maxBytes)")
        let expected = model.read(user: user, after: after, limit: limit, maxBytes: maxBytes)
        let status: ReadStatus
        let messages: [StoredMessage]
        let newestSeq: Seq
        let epoch: Epoch
        let hasMore: Bool
        do {
            if visiting {
                var seen: [StoredMessage] = []
                let summary = try store!.visit(user: UserID(user), after: Seq(after), limit: limit, maxBytes: maxBytes) { view in
                    seen.append(StoredMessage(seq: view.seq, sender: view.header.sender, device: view.header.device,
                                              clientMessageID: view.header.clientMessageID, timestampMs: view.header.timestampMs,
                                              outgoing: view.header.isOutgoing, payload: view.payload() ?? []))
                }
                try expect(summary.count == seen.count, "visit summary counts \(summary.count), visited \(seen.count)")
                try expect(summary.lastSeq == (seen.last?.seq ?? Seq(after)), "visit lastSeq \(summary.lastSeq)")
                (status, messages, newestSeq, epoch, hasMore) = (summary.status, seen, summary.newestSeq, summary.epoch, summary.hasMore)
            } else {
                let result = try store!.read(user: UserID(user), after: Seq(after), limit: limit, maxBytes: maxBytes)
                (status, messages, newestSeq, epoch, hasMore) = (result.status, result.messages, result.newestSeq, result.epoch, result.hasMore)
            }
        } catch {
            throw divergence("read failed: \(error)")
        }
        try expect(status == expected.status, "read status \(status), expected \(expected.status)")
        try expect(messages.map(\.seq.rawValue) == expected.seqs, "read seqs \(messages.map(\.seq.rawValue)), expected \(expected.seqs)")
        for message in messages { try expectSame(message, user: user) }
        try expect(newestSeq == Seq(newest) && epoch == .initial, "read head: newest \(newestSeq) epoch \(epoch), expected \(newest) and \(Epoch.initial)")
        try expect(hasMore == expected.hasMore, "read hasMore \(hasMore), expected \(expected.hasMore)")
    }

    private func readWithBadArguments() throws {
        let user = Self.users[random.nextInt(below: Self.users.count)]
        let (limit, maxBytes) = [(0, Int.max), (options.readLimitMax + 1, Int.max), (5, 0), (-1, 10)][random.nextInt(below: 4)]
        note("read user \(user) with limit \(limit) maxBytes \(maxBytes)")
        do {
            let result = try store!.read(user: UserID(user), after: .zero, limit: limit, maxBytes: maxBytes)
            throw divergence("a read with limit \(limit) maxBytes \(maxBytes) answered \(result.status)")
        } catch StoreError.invalidArgument {
        } catch let error as ModelDivergence {
            throw error
        } catch {
            throw divergence("a read with bad arguments failed with \(error)")
        }
    }

    private func ack() throws {
        let user = random.nextInt(below: 10) == 0 ? Self.strangerUser : Self.users[random.nextInt(below: Self.users.count)]
        let device = Self.devices[random.nextInt(below: Self.devices.count)]
        let newest = Int(model.newestSeq(user))
        let seq = UInt32(random.nextInt(below: 4) == 0 ? newest + 1 + random.nextInt(below: 3) : random.nextInt(below: newest + 1))
        note("ack user \(user) device \(device) seq \(seq)")
        let expected = model.ack(user: user, device: device, seq: seq)
        do {
            let actual = try store!.ack(user: UserID(user), device: DeviceID(device), seq: Seq(seq))
            try expect(actual == expected, "ack answered \(actual), expected \(expected.map { "\($0)" } ?? "invalidArgument")")
        } catch let error as ModelDivergence {
            throw error
        } catch StoreError.invalidArgument {
            try expect(expected == nil, "ack refused as invalid, expected \(expected.map { "\($0)" } ?? "")")
        } catch {
            throw divergence("ack failed: \(error)")
        }
    }

    private func blockOrUnblock() throws {
        let user = random.nextInt(below: 8) == 0 ? Self.blockOnlyUser : Self.users[random.nextInt(below: Self.users.count)]
        let other = UInt64(1 + random.nextInt(below: 8))
        let blocking = random.nextInt(below: 5) < 3
        note("\(blocking ? "block" : "unblock") user \(user) blocked \(other)")
        do {
            if blocking {
                try store!.block(user: UserID(user), blocked: UserID(other))
                model.block(user: user, blocked: other)
            } else {
                try store!.unblock(user: UserID(user), blocked: UserID(other))
                model.unblock(user: user, blocked: other)
            }
        } catch {
            throw divergence("block/unblock failed: \(error)")
        }
    }

    private func crashAndReopen() throws {
        note("crash (power cut after the last acknowledged operation) and reopen")
        structuralChange = true
        guard let fileSystem = simulated else { return }
        let survivor = fileSystem.crash(seed: random.next(), tearing: false)
        // The old instance only sees a dead disk now; its close fails and releases nothing durable.
        try? store?.close()
        store = nil
        simulated = survivor
        options.fileSystem = survivor
        try open()
    }

    private func applyRetention() throws {
        note("applyRetention")
        structuralChange = true
        do { try store!.applyRetention() } catch { throw divergence("applyRetention failed: \(error)") }
        let stats = store!.stats()
        if let maxBytes = options.retention.maxBytes {
            try expect(stats.logBytes <= maxBytes || stats.segments == 1,
                       "after retention the log holds \(stats.logBytes) bytes in \(stats.segments) segments (max \(maxBytes))")
        }
    }

    private func record(_ what: String, _ body: () throws -> Void) throws {
        note(what)
        structuralChange = true
        do { try body() } catch let error as ModelDivergence { throw error } catch { throw divergence("\(what) failed: \(error)") }
    }

    // MARK: Checking the whole state

    /// Compares everything the store shows with the model. `mayRetain`: the last operation may
    /// have run retention, so first-available seqs may have moved (forward only).
    private func checkState(readEverything: Bool, mayRetain: Bool) throws {
        let store = self.store!
        var retained = 0
        for user in Self.users + [Self.strangerUser, Self.blockOnlyUser] {
            let newest = model.newestSeq(user)
            let info = store.mailboxInfo(user: UserID(user))
            try expect(info.newestSeq == Seq(newest) && store.newestSeq(user: UserID(user)) == Seq(newest),
                       "user \(user) newest seq \(info.newestSeq), expected \(newest)")
            try expect(info.epoch == .initial, "user \(user) epoch \(info.epoch)")
            try expect(info.confirmedSeq == Seq(model.confirmedSeq(user)) && store.confirmedSeq(user: UserID(user)) == info.confirmedSeq,
                       "user \(user) confirmed seq \(info.confirmedSeq), expected \(model.confirmedSeq(user))")
            let first = info.firstAvailable.rawValue
            let previous = model.firstAvailable(user)
            if options.retention.isEnabled {
                try expect(first >= previous, "user \(user) first available went back from \(previous) to \(first)")
                try expect(first == previous || mayRetain, "user \(user) first available moved from \(previous) to \(first) without retention")
                try expect(first <= newest + 1, "user \(user) first available \(first) beyond newest \(newest) + 1")
            } else {
                try expect(first == 1, "user \(user) first available \(first) without retention")
            }
            model.firstAvailable[user] = first
            retained += Int(newest + 1 - first)

            let cursors = Dictionary(store.cursors(user: UserID(user)).map { ($0.device.rawValue, $0.seq.rawValue) }, uniquingKeysWith: { _, _ in 0 })
            try expect(cursors == (model.cursors[user] ?? [:]), "user \(user) cursors \(cursors), expected \(model.cursors[user] ?? [:])")
            for device in Self.devices {
                try expect(store.cursor(user: UserID(user), device: DeviceID(device)) == Seq(model.cursor(user, device: device)),
                           "user \(user) device \(device) cursor")
            }
            let blocked = store.blockedUsers(user: UserID(user)).map(\.rawValue)
            try expect(blocked == (model.blocked[user] ?? []).sorted(), "user \(user) blocks \(blocked), expected \((model.blocked[user] ?? []).sorted())")
            let probe = UInt64(1 + random.nextInt(below: 8))
            try expect(store.isBlocked(user: UserID(user), blocked: UserID(probe)) == (model.blocked[user]?.contains(probe) ?? false),
                       "user \(user) isBlocked(\(probe))")
            if readEverything { try readWholeMailbox(user) }
        }
        let stats = store.stats()
        try expect(stats.indexedMessages == retained, "stats count \(stats.indexedMessages) indexed messages, the mailboxes retain \(retained)")
    }

    /// Reads every retained message of `user` and compares it with the model; a read below the
    /// retained range must answer `truncated`.
    private func readWholeMailbox(_ user: UInt64) throws {
        let newest = model.newestSeq(user)
        let first = model.firstAvailable(user)
        let result: ReadResult
        do {
            result = try store!.read(user: UserID(user), after: Seq(first - 1), limit: options.readLimitMax)
        } catch {
            throw divergence("reading user \(user) after \(first - 1) failed: \(error)")
        }
        try expect(result.status == .ok, "user \(user) read from the first available seq: \(result.status)")
        try expect(result.messages.map(\.seq.rawValue) == Array(first ..< newest + 1),
                   "user \(user) retained seqs \(result.messages.first?.seq.rawValue ?? 0)...\(result.messages.last?.seq.rawValue ?? 0), expected \(first)...\(newest)")
        for message in result.messages { try expectSame(message, user: user) }
        if first >= 2 && newest >= 1 {
            let below = try store!.read(user: UserID(user), after: Seq(first - 2), limit: 1)
            try expect(below.status == .truncated(firstAvailable: Seq(first)), "user \(user) read below the retained range: \(below.status)")
        }
    }

    private func expectSame(_ stored: StoredMessage, user: UInt64) throws {
        let seq = stored.seq.rawValue
        guard seq >= 1 && seq <= model.newestSeq(user) else { throw divergence("user \(user) read seq \(seq) beyond the model") }
        let sent = model.message(user, seq: seq)
        try expect(stored.sender == sent.sender && stored.device == sent.device && stored.clientMessageID == sent.clientMessageID &&
                   stored.timestampMs == sent.timestampMs && stored.outgoing == sent.outgoing,
                   "user \(user) seq \(seq) header differs: \(stored.sender)/\(stored.device)/\(stored.clientMessageID)")
        try expect(stored.payload == sent.payload, "user \(user) seq \(seq) payload differs (\(stored.payload.count) vs \(sent.payload.count) bytes)")
    }

    // MARK: Inputs

    private func newMessage(payloadBytes: Int) -> NewMessage {
        let user = Self.users[random.nextInt(below: Self.users.count)]
        let outgoing = random.nextInt(below: 10) == 0
        let sender = outgoing ? user : Self.senders[random.nextInt(below: Self.senders.count)]
        let id = nextClientMessageID
        nextClientMessageID += 1
        return NewMessage(user: UserID(user), sender: UserID(sender), device: DeviceID(Self.devices[random.nextInt(below: Self.devices.count)]),
                          clientMessageID: ClientMessageID(id), timestampMs: 1_600_000_000_000 + random.next() % 100_000_000_000,
                          payload: payload(bytes: payloadBytes), outgoing: outgoing)
    }

    /// A byte bound at, just below or just above the payload total of the first few messages a
    /// read from `after` returns: the edges of the `maxBytes` rule.
    private func boundaryMaxBytes(user: UInt64, after: UInt32) -> Int {
        let newest = model.newestSeq(user)
        guard after < newest, after + 1 >= model.firstAvailable(user) else { return 1 + random.nextInt(below: 100) }
        let count = 1 + random.nextInt(below: min(5, Int(newest - after)))
        var total = 0
        for seq in after + 1 ... after + UInt32(count) { total += model.message(user, seq: seq).payload.count }
        return max(1, total - 1 + random.nextInt(below: 3))
    }

    /// Sizes from empty to the store's maximum, weighted towards the small and the edges.
    private func payloadSize() -> Int {
        let max = options.payloadBytesMax
        switch random.nextInt(below: 20) {
        case 0, 1: return 0
        case 2 ..< 9: return 1 + random.nextInt(below: FormatConstants.compressionThresholdBytes)
        case 9 ..< 15: return random.nextInt(below: 1024)
        case 15, 16: return random.nextInt(below: max)
        case 17, 18: return max - random.nextInt(below: 2 * FormatConstants.recordAlignment)
        default: return max
        }
    }

    /// Random bytes (incompressible) or runs (compressible), so both storage paths are used.
    private func payload(bytes count: Int) -> [UInt8] {
        if random.nextInt(below: 2) == 0 {
            return (0 ..< count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
        let run = 1 + random.nextInt(below: 16)
        let value = UInt8(truncatingIfNeeded: random.next())
        return (0 ..< count).map { $0 / run % 2 == 0 ? value : UInt8(truncatingIfNeeded: $0) }
    }

    // MARK: Reporting

    private func note(_ operation: String) {
        let kind = String(operation.prefix { $0 != " " })
        counts[kind, default: 0] += 1
        history.append("\(step): \(operation)")
        if history.count > Self.historyKept { history.removeFirst() }
    }

    private func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw divergence(message()) }
    }

    private func divergence(_ message: String) -> ModelDivergence {
        ModelDivergence(description: "seed \(seed) (\(storage), \(configuration)) step \(step): \(message)\n" +
                            "recent operations:\n  " + history.joined(separator: "\n  "))
    }
}
