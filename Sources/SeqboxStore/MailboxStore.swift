#if canImport(Glibc)
import Glibc
#endif
import SeqboxFormat
import SeqboxSystem

/// The per-user mailbox store: an append-only, segmented log of typed records, with an
/// in-memory index of every mailbox, group-commit durability and crash recovery.
///
/// Concurrency model:
/// - Any number of threads may call any method at once.
/// - One writer thread owns the log. Appends, acks and blocks are queued (bounded by
///   `pendingRequestsMax`), taken in batches, assigned seqs, written with one `pwrite`, made
///   durable with one `fdatasync` (group commit), then published and completed.
/// - The in-memory state (mailbox table, idempotency window, segment list) is guarded by one
///   lock. Only the writer mutates it, always under the lock; readers hold the lock only to
///   copy the positions they need, then decode records from the mapped segments unlocked.
///   So a reader never waits for a sync, and never sees a record before it is durable.
/// - Completion callbacks run on the writer thread and must return quickly.
public final class MailboxStore: @unchecked Sendable {
    public let directory: String
    public let options: StoreOptions
    /// What opening found and did.
    public let recoveryReport: RecoveryReport

    let fileSystem: any FileSystem
    let logDirectory: String
    private let lockHandle: any FileLock

    // MARK: State (guarded by `stateLock`; mutated only by the writer thread)
    let stateLock = ConditionLock()
    let table: MailboxTable
    let dedup: DedupWindow
    var segments: [Segment]
    var counters = Counters()

    // MARK: Writer-thread-only state
    /// Index entries of the active segment, written out when it is sealed.
    var activeIndex: [IndexEntry]
    var rollsSinceCheckpoint = 0
    var unsyncedBytes = 0
    var lastSyncNanoseconds = monotonicNanoseconds()
    var lastRecordPosition: UInt64
    var lastRecordChecksum: UInt64
    var writeBuffer: UnsafeMutableRawBufferPointer

    // MARK: Queue (guarded by `queueLock`)
    let queueLock = ConditionLock()
    var pending: [WriteRequest] = []
    var stopping = false
    var closed = false
    /// Set when a sync failed: the store accepts no more writes until reopened.
    var failure: StoreError?
    private var writerThread: pthread_t?

    struct Counters {
        var appendedRecords: UInt64 = 0
        var syncs: UInt64 = 0
        var batches: UInt64 = 0
        var checkpoints: UInt64 = 0
        /// Reads that met a record failing verification (answered as `.lost`).
        var damagedReads: UInt64 = 0
    }

    init(directory: String, options: StoreOptions, lockHandle: any FileLock, recovered: RecoveredState) {
        self.directory = directory
        self.options = options
        self.fileSystem = options.fileSystem
        self.logDirectory = directory + "/" + FormatConstants.segmentDirectoryName
        self.lockHandle = lockHandle
        self.recoveryReport = recovered.report
        self.table = recovered.table
        self.dedup = recovered.dedup
        self.segments = recovered.segments
        self.activeIndex = recovered.activeIndex
        self.lastRecordPosition = recovered.lastRecordPosition
        self.lastRecordChecksum = recovered.lastRecordChecksum
        self.writeBuffer = .allocate(byteCount: options.batchBytesMax + FormatConstants.recordSizeMax, alignment: 8)
    }

    deinit {
        writeBuffer.deallocate()
    }

    // MARK: Open and close

    /// Opens (creating if needed) the store in `directory`, recovering from the log.
    /// Throws `storeLocked` when another process has it open, `corrupt` when sealed data is
    /// damaged and the policy is `.refuse`.
    public static func open(directory: String, options: StoreOptions = StoreOptions()) throws(StoreError) -> MailboxStore {
        try options.validate()
        let fileSystem = options.fileSystem
        let lockPath = directory + "/" + FormatConstants.lockFileName
        let lock: any FileLock
        do {
            try createDurably(directory + "/" + FormatConstants.segmentDirectoryName, fileSystem: fileSystem)
            guard let taken = try fileSystem.lock(lockPath) else { throw StoreError.storeLocked(path: lockPath) }
            lock = taken
        } catch let error as StoreError {
            throw error
        } catch let error as SystemError {
            throw StoreError.from(error)
        } catch {
            throw StoreError.invalidArgument("\(error)")
        }
        do throws(StoreError) {
            let recovered = try Recovery(directory: directory, options: options).run()
            let store = MailboxStore(directory: directory, options: options, lockHandle: lock, recovered: recovered)
            try store.finishOpen(recovered)
            store.startWriter()
            return store
        } catch {
            lock.unlock()
            throw error
        }
    }

    /// Creates `path` and any missing parents, then syncs the parent of every directory it
    /// created, so that the new names survive a power cut before anything inside them is
    /// relied upon.
    static func createDurably(_ path: String, fileSystem: any FileSystem) throws(SystemError) {
        var missing: [String] = []
        var current = path
        while !current.isEmpty, current != "/", !fileSystem.isDirectory(current) {
            missing.append(current)
            guard let slash = current.lastIndex(of: "/") else { current = ""; break }
            current = String(current[..<slash])
        }
        try fileSystem.createDirectory(path)
        for created in missing.reversed() {
            let parent = created.lastIndex(of: "/").map { created[..<$0].isEmpty ? "/" : String(created[..<$0]) } ?? "."
            try fileSystem.syncDirectory(parent)
        }
    }

    /// Stops accepting work, finishes every queued append, syncs, writes a checkpoint and
    /// releases the lock. Idempotent.
    public func close() throws(StoreError) {
        let thread: pthread_t? = queueLock.withLock {
            if closed { return nil }
            closed = true
            stopping = true
            queueLock.broadcast()
            return writerThread
        }
        guard let thread else { return }
        pthread_join(thread, nil)
        defer { lockHandle.unlock() }
        if failure == nil {
            try syncActive()
            try writeCheckpoint()
        }
    }

    // MARK: Appends

    /// Appends one message and waits until it is durable under the durability mode.
    public func append(_ message: NewMessage) throws(StoreError) -> AppendResult {
        try append(batch: [message])[0]
    }

    /// Appends messages atomically (one group commit; all or none) and waits for durability.
    public func append(batch messages: [NewMessage]) throws(StoreError) -> [AppendResult] {
        let waiter = Waiter<Result<[AppendResult], StoreError>>()
        append(batch: messages) { waiter.complete($0) }
        return try waiter.wait().get()
    }

    /// Appends messages atomically and calls `completion` (on the writer thread) once they are
    /// durable, or with the error. Never blocks on I/O.
    public func append(batch messages: [NewMessage], completion: @escaping @Sendable (Result<[AppendResult], StoreError>) -> Void) {
        guard !messages.isEmpty else { return completion(.success([])) }
        var operations: [WriteOperation] = []
        operations.reserveCapacity(messages.count)
        for message in messages {
            guard message.payload.count <= options.payloadBytesMax else {
                return completion(.failure(.payloadTooLarge(size: message.payload.count, max: options.payloadBytesMax)))
            }
            operations.append(.message(PreparedMessage(message)))
        }
        let request = WriteRequest(operations: operations, completion: completion)
        let batchBytesMax = effectiveBatchBytesMax
        guard request.recordBytes <= batchBytesMax else {
            // A batch is atomic and lands in one segment, so it must fit in one.
            return completion(.failure(.invalidArgument("batch of \(request.recordBytes) bytes exceeds the \(batchBytesMax)-byte batch limit")))
        }
        submit(request)
    }

    // MARK: Cursors and blocklists

    /// Records that `user`'s `device` holds everything up to `seq`. Cursors never move back:
    /// an ack at or below the current cursor is a no-op (`duplicate`). `seq` must not exceed
    /// the mailbox's newest seq.
    @discardableResult
    public func ack(user: UserID, device: DeviceID, seq: Seq) throws(StoreError) -> AppendResult {
        try perform([.ack(user: user, device: device, seq: seq)])[0]
    }

    public func ack(user: UserID, device: DeviceID, seq: Seq, completion: @escaping @Sendable (Result<AppendResult, StoreError>) -> Void) {
        submit(WriteRequest(operations: [.ack(user: user, device: device, seq: seq)]) { completion($0.map { $0[0] }) })
    }

    /// `user` stops accepting messages from `blocked` (the server's send path checks `isBlocked`).
    public func block(user: UserID, blocked: UserID) throws(StoreError) {
        _ = try perform([.block(user: user, blocked: blocked)])
    }

    public func unblock(user: UserID, blocked: UserID) throws(StoreError) {
        _ = try perform([.unblock(user: user, blocked: blocked)])
    }

    /// `block` without waiting: `completion` runs on the writer thread once it is durable.
    public func block(user: UserID, blocked: UserID, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        submit(WriteRequest(operations: [.block(user: user, blocked: blocked)]) { completion($0.map { _ in () }) })
    }

    /// `unblock` without waiting: `completion` runs on the writer thread once it is durable.
    public func unblock(user: UserID, blocked: UserID, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        submit(WriteRequest(operations: [.unblock(user: user, blocked: blocked)]) { completion($0.map { _ in () }) })
    }

    /// Moves `user`'s mailbox to `epoch`, recording that seqs `lostFirst...lostLast` were lost
    /// (used by repair; DESIGN.md invariant 3).
    public func changeEpoch(user: UserID, epoch: Epoch, lostFirst: Seq, lostLast: Seq) throws(StoreError) {
        _ = try perform([.epochChange(user: user, epoch: epoch, lostFirst: lostFirst, lostLast: lostLast)])
    }

    public func isBlocked(user: UserID, blocked: UserID) -> Bool {
        stateLock.withLock {
            guard let slot = table.slot(of: user) else { return false }
            return table.extras(ofSlot: slot)?.blocked.contains(blocked) ?? false
        }
    }

    public func blockedUsers(user: UserID) -> [UserID] {
        stateLock.withLock {
            guard let slot = table.slot(of: user) else { return [] }
            return (table.extras(ofSlot: slot)?.blocked ?? []).sorted()
        }
    }

    /// The seq `device` of `user` last acknowledged (0 if never).
    public func cursor(user: UserID, device: DeviceID) -> Seq {
        stateLock.withLock {
            guard let slot = table.slot(of: user) else { return .zero }
            return table.extras(ofSlot: slot)?.cursor(device) ?? .zero
        }
    }

    public func cursors(user: UserID) -> [DeviceCursor] {
        stateLock.withLock {
            guard let slot = table.slot(of: user) else { return [] }
            return table.extras(ofSlot: slot)?.cursors ?? []
        }
    }

    /// The highest seq any device of `user` has acknowledged.
    public func confirmedSeq(user: UserID) -> Seq {
        stateLock.withLock {
            guard let slot = table.slot(of: user) else { return .zero }
            return table.extras(ofSlot: slot)?.confirmedSeq ?? .zero
        }
    }

    /// The newest durable seq of `user`'s mailbox (0 when empty).
    public func newestSeq(user: UserID) -> Seq {
        stateLock.withLock {
            guard let slot = table.slot(of: user) else { return .zero }
            return Seq(table.states[slot].newestSeq)
        }
    }

    public func mailboxInfo(user: UserID) -> MailboxInfo {
        stateLock.withLock {
            guard let slot = table.slot(of: user) else {
                return MailboxInfo(newestSeq: .zero, firstAvailable: Seq(1), epoch: .initial, confirmedSeq: .zero)
            }
            let state = table.states[slot]
            return MailboxInfo(newestSeq: Seq(state.newestSeq), firstAvailable: Seq(state.firstAvailable),
                               epoch: Epoch(state.epoch), confirmedSeq: table.extras(ofSlot: slot)?.confirmedSeq ?? .zero)
        }
    }

    /// Every mailbox owner, in first-seen order.
    public func users() -> [UserID] {
        stateLock.withLock { table.users.map { UserID($0) } }
    }

    public func stats() -> StoreStats {
        stateLock.withLock {
            StoreStats(users: table.count, indexedMessages: table.indexedMessages, segments: segments.count,
                       logBytes: segments.reduce(0) { $0 + Int64($1.length) }, dedupEntries: dedup.count,
                       appendedRecords: counters.appendedRecords, syncs: counters.syncs, batches: counters.batches,
                       checkpoints: counters.checkpoints, damagedReads: counters.damagedReads)
        }
    }

    /// Approximate bytes of in-memory index (positions, mailbox heads, idempotency window).
    public func indexMemoryBytes() -> Int {
        stateLock.withLock { table.approximateMemoryBytes + dedup.approximateMemoryBytes + (segments.last?.recordCount ?? 0) * MemoryLayout<IndexEntry>.stride }
    }

    // MARK: Maintenance (run on the writer thread)

    /// Writes a checkpoint now.
    public func checkpoint() throws(StoreError) { try control(.checkpoint) }
    /// Deletes the sealed segments the retention policy no longer keeps.
    public func applyRetention() throws(StoreError) { try control(.retention) }
    /// Seals the active segment and starts a new one.
    public func rollSegment() throws(StoreError) { try control(.roll) }

    private func control(_ operation: ControlOperation) throws(StoreError) {
        let waiter = Waiter<Result<[AppendResult], StoreError>>()
        submit(WriteRequest(control: operation) { waiter.complete($0) })
        _ = try waiter.wait().get()
    }

    func perform(_ operations: [WriteOperation]) throws(StoreError) -> [AppendResult] {
        let waiter = Waiter<Result<[AppendResult], StoreError>>()
        submit(WriteRequest(operations: operations) { waiter.complete($0) })
        return try waiter.wait().get()
    }

    func submit(_ request: WriteRequest) {
        let rejection: StoreError? = queueLock.withLock {
            if closed { return .closed }
            if let failure { return failure }
            if pending.count >= options.pendingRequestsMax { return .overloaded }
            pending.append(request)
            if pending.count == 1 { queueLock.signal() }
            return nil
        }
        if let rejection { request.completion(.failure(rejection)) }
    }

    // MARK: Writer thread

    private func startWriter() {
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { argument in
            let store = Unmanaged<MailboxStore>.fromOpaque(argument!).takeRetainedValue()
            ThreadName.set("seqbox-writer")
            store.writerLoop()
            return nil
        }, box.toOpaque())
        precondition(created == 0, "cannot start the store's writer thread")
        writerThread = thread
    }
}
