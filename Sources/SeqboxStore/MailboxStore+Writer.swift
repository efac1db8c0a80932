import SeqboxFormat
import SeqboxSystem

/// One record the writer will lay out in this batch.
struct PlannedRecord {
    var header: RecordHeader
    var slot: Int
    var keyHash: UInt64
    /// Index into the batch's prepared payloads, or -1 for records without payload.
    var payloadIndex: Int
}

extension MailboxStore {
    /// The writer thread's loop: take a batch, write it, sync once, publish, complete.
    func writerLoop() {
        while true {
            queueLock.lock()
            while pending.isEmpty && !stopping {
                if let wait = intervalSyncWaitNanoseconds() {
                    if wait == 0 { break }
                    queueLock.wait(timeoutNanoseconds: wait)
                    if pending.isEmpty { break }
                } else {
                    queueLock.wait()
                }
            }
            if pending.isEmpty {
                let done = stopping
                queueLock.unlock()
                if done { return }
                syncIfIntervalElapsed()
                continue
            }
            let batch = takeBatchLocked()
            queueLock.unlock()

            if let control = batch.first?.control, batch.count == 1 {
                let result: Result<[AppendResult], StoreError>
                do throws(StoreError) {
                    try runControl(control)
                    result = .success([])
                } catch {
                    result = .failure(error)
                }
                batch[0].completion(result)
            } else {
                processBatch(batch)
            }
            syncIfIntervalElapsed()
        }
    }

    /// Takes requests from the head of the queue while they fit one batch (queue lock held).
    private func takeBatchLocked() -> [WriteRequest] {
        if pending[0].control != nil { return [pending.removeFirst()] }
        let bytesMax = effectiveBatchBytesMax
        var records = 0
        var bytes = 0
        var count = 0
        for request in pending {
            if request.control != nil { break }
            let nextRecords = records + request.operations.count
            let nextBytes = bytes + request.recordBytes
            if count > 0 && (nextRecords > options.batchRecordsMax || nextBytes > bytesMax) { break }
            records = nextRecords
            bytes = nextBytes
            count += 1
        }
        let batch = Array(pending[0 ..< count])
        pending.removeFirst(count)
        return batch
    }

    /// A batch must fit in one fresh segment and in the write buffer.
    var effectiveBatchBytesMax: Int {
        min(options.batchBytesMax, options.segmentBytes - FormatConstants.segmentHeaderSize)
    }

    // MARK: Batches

    func processBatch(_ requests: [WriteRequest]) {
        if let failure {
            for request in requests { request.completion(.failure(failure)) }
            return
        }
        var outcomes: [Result<[AppendResult], StoreError>] = []
        var planned: [PlannedRecord] = []
        var payloads: [[UInt8]] = []
        planBatch(requests, outcomes: &outcomes, planned: &planned, payloads: &payloads)

        if !planned.isEmpty {
            do throws(StoreError) {
                try writeAndPublish(planned, payloads: payloads)
            } catch {
                for index in outcomes.indices where (try? outcomes[index].get()) != nil { outcomes[index] = .failure(error) }
            }
        }
        for (request, outcome) in zip(requests, outcomes) { request.completion(outcome) }
    }

    /// Phase 1, under the state lock: idempotency checks, seq assignment, validation. Each
    /// request is all-or-nothing; a failing request leaves no planned record.
    private func planBatch(_ requests: [WriteRequest], outcomes: inout [Result<[AppendResult], StoreError>],
                           planned: inout [PlannedRecord], payloads: inout [[UInt8]]) {
        var batchNewest: [Int: UInt32] = [:]
        var batchKeys: [UInt64: (slot: Int, seq: UInt32)] = [:]
        let now = options.clock()
        stateLock.lock()
        defer { stateLock.unlock() }
        // What a request changed in the batch state, undone if the request fails (a request
        // is all-or-nothing); reused across requests so planning allocates little.
        var undoNewest: [(slot: Int, previous: UInt32?)] = []
        var undoKeys: [(key: UInt64, previous: (slot: Int, seq: UInt32)?)] = []
        for request in requests {
            undoNewest.removeAll(keepingCapacity: true)
            undoKeys.removeAll(keepingCapacity: true)
            let plannedStart = planned.count
            let payloadsStart = payloads.count
            var results: [AppendResult] = []
            results.reserveCapacity(request.operations.count)
            var failure: StoreError?
            operations: for operation in request.operations {
                switch operation {
                case .message(let prepared):
                    let message = prepared.message
                    let slot = table.slotCreating(message.user)
                    if let hit = batchKeys[prepared.keyHash], hit.slot == slot {
                        results.append(AppendResult(seq: Seq(hit.seq), duplicate: true))
                        continue
                    }
                    if let seq = storedDuplicate(prepared, slot: slot) {
                        results.append(AppendResult(seq: seq, duplicate: true))
                        continue
                    }
                    let newest = batchNewest[slot] ?? table.states[slot].newestSeq
                    guard newest < UInt32.max else {
                        failure = .sequenceExhausted(message.user)
                        break operations
                    }
                    let seq = newest + 1
                    undoNewest.append((slot, batchNewest[slot]))
                    batchNewest[slot] = seq
                    undoKeys.append((prepared.keyHash, batchKeys[prepared.keyHash]))
                    batchKeys[prepared.keyHash] = (slot, seq)
                    let header = RecordHeader(
                        type: .message,
                        flags: (prepared.compressed ? FormatConstants.flagCompressed : 0) | (message.outgoing ? FormatConstants.flagOutgoing : 0),
                        user: message.user, seq: Seq(seq), timestampMs: message.timestampMs, sender: message.sender,
                        device: message.device, clientMessageID: message.clientMessageID,
                        storedLength: UInt32(prepared.stored.count), rawLength: UInt32(prepared.rawLength))
                    planned.append(PlannedRecord(header: header, slot: slot, keyHash: prepared.keyHash, payloadIndex: payloads.count))
                    payloads.append(prepared.stored)
                    results.append(AppendResult(seq: Seq(seq), duplicate: false))

                case .ack(let user, let device, let seq):
                    guard let slot = table.slot(of: user), seq.rawValue <= table.states[slot].newestSeq else {
                        if seq == .zero {
                            results.append(AppendResult(seq: seq, duplicate: true))
                            continue
                        }
                        failure = .invalidArgument("ack of seq \(seq) beyond mailbox \(user)'s newest seq")
                        break operations
                    }
                    if seq <= (table.extras(ofSlot: slot)?.cursor(device) ?? .zero) {
                        results.append(AppendResult(seq: seq, duplicate: true))
                        continue
                    }
                    let header = RecordHeader(type: .ack, user: user, seq: seq, timestampMs: now, device: device)
                    planned.append(PlannedRecord(header: header, slot: slot, keyHash: 0, payloadIndex: -1))
                    results.append(AppendResult(seq: seq, duplicate: false))

                case .block(let user, let blocked), .unblock(let user, let blocked):
                    let isBlock = if case .block = operation { true } else { false }
                    if !isBlock && table.slot(of: user) == nil {
                        results.append(AppendResult(seq: .zero, duplicate: true))
                        continue
                    }
                    let slot = table.slotCreating(user)
                    let already = table.extras(ofSlot: slot)?.blocked.contains(blocked) ?? false
                    if already == isBlock {
                        results.append(AppendResult(seq: .zero, duplicate: true))
                        continue
                    }
                    let header = RecordHeader(type: isBlock ? .block : .unblock, user: user, seq: .zero, timestampMs: now, sender: blocked)
                    planned.append(PlannedRecord(header: header, slot: slot, keyHash: 0, payloadIndex: -1))
                    results.append(AppendResult(seq: .zero, duplicate: false))

                case .epochChange(let user, let epoch, let lostFirst, let lostLast):
                    let slot = table.slotCreating(user)
                    let newest = batchNewest[slot] ?? table.states[slot].newestSeq
                    if lostFirst <= lostLast, lostLast.rawValue > newest {
                        guard lostLast.rawValue - newest <= Recovery.gapSeqsMax else {
                            failure = .invalidArgument("lost range ends \(lostLast.rawValue - newest) seqs past the newest")
                            break operations
                        }
                        undoNewest.append((slot, batchNewest[slot]))
                        batchNewest[slot] = lostLast.rawValue
                    }
                    // The record's seq is the newest seq after the change (a lost tail stays used).
                    let newestAfter = max(newest, lostFirst <= lostLast ? lostLast.rawValue : 0)
                    let header = RecordHeader(type: .epochChange, user: user, seq: Seq(newestAfter), timestampMs: now,
                                              sender: UserID(UInt64(lostFirst.rawValue)), device: DeviceID(UInt64(lostLast.rawValue)),
                                              clientMessageID: ClientMessageID(UInt64(epoch.rawValue)))
                    planned.append(PlannedRecord(header: header, slot: slot, keyHash: 0, payloadIndex: -1))
                    results.append(AppendResult(seq: Seq(newestAfter), duplicate: false))
                }
            }
            if let failure {
                for (slot, previous) in undoNewest.reversed() { batchNewest[slot] = previous }
                for (key, previous) in undoKeys.reversed() { batchKeys[key] = previous }
                planned.removeSubrange(plannedStart...)
                payloads.removeSubrange(payloadsStart...)
                outcomes.append(.failure(failure))
                continue
            }
            outcomes.append(.success(results))
        }
    }

    /// The seq an earlier append with the same idempotency key was stored under, if any.
    /// A window hit is checked against the stored record while it is retained (state lock held).
    func storedDuplicate(_ prepared: PreparedMessage, slot: Int) -> Seq? {
        guard let entry = dedup.lookup(prepared.keyHash), entry.user == prepared.message.user.rawValue else { return nil }
        guard let position = table.states[slot].position(of: entry.seq), !PositionVector.isLost(position),
              let located = locate(position) else {
            return Seq(entry.seq)
        }
        guard case .record(let header) = RecordCodec.decode(located.segment.bytes, at: located.offset, segmentBase: located.segment.base) else {
            return nil
        }
        let message = prepared.message
        let same = header.type == .message && header.sender == message.sender && header.device == message.device &&
            header.clientMessageID == message.clientMessageID && header.isOutgoing == message.outgoing && header.seq.rawValue == entry.seq
        return same ? Seq(entry.seq) : nil
    }

    /// The segment holding `position` and the offset in it (state lock held, or writer thread).
    func locate(_ position: UInt64) -> (segment: Segment, offset: Int)? {
        guard let index = SegmentLookup.index(holding: position, count: segments.count, base: { segments[$0].base.rawValue }) else {
            return nil
        }
        let segment = segments[index]
        let offset = position - segment.base.rawValue
        guard offset < UInt64(segment.capacity) else { return nil }
        return (segment, Int(offset))
    }

    /// Phases 2 and 3: lay the records out, write them with one pwrite, sync once (mode
    /// `sync`), then publish them under the state lock.
    private func writeAndPublish(_ planned: [PlannedRecord], payloads: [[UInt8]]) throws(StoreError) {
        var total = 0
        for record in planned { total += record.header.recordSize }
        precondition(total <= writeBuffer.count, "batch larger than the write buffer")
        if segments.last!.length + total > segments.last!.capacity {
            try roll()
        }
        let active = segments.last!
        let start = active.length
        var offset = 0
        var entries: [IndexEntry] = []
        entries.reserveCapacity(planned.count)
        var lastChecksum: UInt64 = 0
        let marksBatchStart = options.durability == .sync
        for (number, record) in planned.enumerated() {
            var header = record.header
            if number == 0 && marksBatchStart { header.flags |= FormatConstants.flagBatchStart }
            let size: Int
            if record.payloadIndex >= 0 {
                size = payloads[record.payloadIndex].withUnsafeBytes { payload in
                    RecordCodec.encode(header, payload: payload, into: writeBuffer, at: offset, segmentBase: active.base)
                }
            } else {
                size = RecordCodec.encode(header, payload: UnsafeRawBufferPointer(start: nil, count: 0),
                                          into: writeBuffer, at: offset, segmentBase: active.base)
            }
            lastChecksum = UnsafeRawBufferPointer(writeBuffer).loadLE(at: offset, as: UInt64.self)
            entries.append(IndexEntry(offset: UInt32(start + offset), seq: header.seq, user: header.user,
                                      type: header.type, flags: header.flags,
                                      storedLength: header.storedLength, keyHash: record.keyHash))
            offset += size
        }
        do throws(SystemError) {
            try active.file.write(UnsafeRawBufferPointer(rebasing: writeBuffer[0 ..< total]), at: Int64(start))
        } catch {
            // Nothing is published; the next batch overwrites these bytes at the same offset.
            throw StoreError.from(error)
        }
        unsyncedBytes += total
        if options.durability == .sync {
            try syncActive()
        }
        publish(planned, entries: entries, segment: active, bytes: total)
        lastRecordPosition = active.base.rawValue + UInt64(start + offset - planned.last!.header.recordSize)
        lastRecordChecksum = lastChecksum
    }

    private func publish(_ planned: [PlannedRecord], entries: [IndexEntry], segment: Segment, bytes: Int) {
        stateLock.lock()
        for (record, entry) in zip(planned, entries) {
            let position = segment.base.rawValue + UInt64(entry.offset)
            table.apply(record.header, slot: record.slot, position: position, keyHash: record.keyHash, dedup: dedup)
            if record.header.timestampMs > segment.newestTimestampMs { segment.newestTimestampMs = record.header.timestampMs }
        }
        segment.length += bytes
        segment.recordCount += planned.count
        counters.appendedRecords += UInt64(planned.count)
        counters.batches += 1
        stateLock.unlock()
        activeIndex += entries
    }

    // MARK: Sync, roll, checkpoint, retention

    /// fdatasync of the active segment. A failure poisons the store: after a failed fsync
    /// Linux may have dropped the dirty pages, so nothing written since can be trusted.
    func syncActive() throws(StoreError) {
        guard unsyncedBytes > 0 else { return }
        do throws(SystemError) {
            try segments.last!.file.sync()
        } catch {
            let poisoned = StoreError.failedEarlier(error.description)
            queueLock.withLock { failure = poisoned }
            throw poisoned
        }
        unsyncedBytes = 0
        lastSyncNanoseconds = monotonicNanoseconds()
        stateLock.withLock { counters.syncs += 1 }
    }

    /// How long the idle writer may wait before an interval sync is due (queue lock held):
    /// nil when nothing is waiting to be synced.
    private func intervalSyncWaitNanoseconds() -> UInt64? {
        guard case .interval(let milliseconds) = options.durability, unsyncedBytes > 0 else { return nil }
        let due = lastSyncNanoseconds + UInt64(milliseconds) * 1_000_000
        let now = monotonicNanoseconds()
        return due > now ? due - now : 0
    }

    private func syncIfIntervalElapsed() {
        guard case .interval(let milliseconds) = options.durability, unsyncedBytes > 0 else { return }
        if monotonicNanoseconds() >= lastSyncNanoseconds + UInt64(milliseconds) * 1_000_000 {
            try? syncActive()
        }
    }

    func runControl(_ control: ControlOperation) throws(StoreError) {
        if let failure { throw failure }
        switch control {
        case .checkpoint: try writeCheckpoint()
        case .retention: try runRetention()
        case .roll: try roll()
        }
    }

    /// Seals the active segment (synced, index written) and starts the next one at the
    /// position just after its last record.
    func roll() throws(StoreError) {
        let old = segments.last!
        try syncActive()
        do throws(SystemError) {
            // In `sync` mode everything is synced already; in the other modes this is where
            // the sealed segment becomes durable.
            try old.file.sync()
        } catch {
            throw StoreError.from(error)
        }
        let index = IndexFile(basePosition: old.base, segmentLength: UInt64(old.length), entries: activeIndex)
        do throws(SystemError) {
            try fileSystem.writeAtomically(index.encode(), to: logDirectory + "/" + FileNames.index(old.base), directory: logDirectory)
        } catch {
            throw StoreError.from(error)
        }
        let segment = try Segment.create(directory: logDirectory, base: old.endPosition, capacity: options.segmentBytes,
                                         createdMs: options.clock(), fileSystem: fileSystem)
        stateLock.withLock {
            old.sealed = true
            segments.append(segment)
        }
        activeIndex = []
        rollsSinceCheckpoint += 1
        if rollsSinceCheckpoint >= options.checkpointEverySegments {
            // Best effort: a failed checkpoint only makes the next open replay more.
            try? writeCheckpoint()
        }
        if options.retention.isEnabled { try? runRetention() }
    }

    /// Writes a checkpoint of the whole in-memory state as of the end of the log, then
    /// removes checkpoints beyond the newest `checkpointsKept`. Runs on the writer thread
    /// (the only mutator), so it reads the state without the lock.
    func writeCheckpoint() throws(StoreError) {
        try syncActive()
        let position = segments.last!.endPosition
        let bytes = CheckpointCodec.encode(table: table, dedup: dedup, position: position, createdMs: options.clock(),
                                           lastRecordPosition: lastRecordPosition, lastRecordChecksum: lastRecordChecksum)
        do throws(SystemError) {
            try fileSystem.writeAtomically(bytes, to: logDirectory + "/" + FileNames.checkpoint(position), directory: logDirectory)
            let existing = try fileSystem.list(logDirectory).compactMap(FileNames.checkpointPosition).sorted(by: >)
            for stale in existing.dropFirst(FormatConstants.checkpointsKept) {
                try fileSystem.remove(logDirectory + "/" + FileNames.checkpoint(stale))
            }
            try fileSystem.syncDirectory(logDirectory)
        } catch {
            throw StoreError.from(error)
        }
        rollsSinceCheckpoint = 0
        stateLock.withLock { counters.checkpoints += 1 }
    }

    /// Deletes the oldest sealed segments that the retention policy no longer keeps, after a
    /// checkpoint has captured every cursor, block and epoch they carried.
    func runRetention() throws(StoreError) {
        let policy = options.retention
        guard policy.isEnabled, segments.count > 1 else { return }
        let now = options.clock()
        var total = segments.reduce(Int64(0)) { $0 + Int64($1.length) }
        var deleteCount = 0
        for segment in segments.dropLast() {
            let tooOld = policy.maxAgeMs.map { segment.newestTimestampMs + $0 < now } ?? false
            let tooBig = policy.maxBytes.map { total > $0 } ?? false
            guard tooOld || tooBig else { break }
            deleteCount += 1
            total -= Int64(segment.length)
        }
        guard deleteCount > 0 else { return }
        try writeCheckpoint()
        let removed = Array(segments[0 ..< deleteCount])
        let cutoff = segments[deleteCount].base.rawValue
        stateLock.withLock {
            segments.removeFirst(deleteCount)
            table.dropPositions(below: cutoff)
        }
        do throws(SystemError) {
            for segment in removed {
                try fileSystem.remove(segment.path)
                try fileSystem.remove(logDirectory + "/" + FileNames.index(segment.base))
            }
            try fileSystem.syncDirectory(logDirectory)
        } catch {
            throw StoreError.from(error)
        }
    }
}

extension MailboxTable {
    /// Applies one durable record to the state (state lock held). Shared by the writer's
    /// publish step and by recovery's replay.
    func apply(_ header: RecordHeader, slot: Int, position: UInt64, keyHash: UInt64, dedup: DedupWindow) {
        switch header.type {
        case .message:
            appendPosition(slot: slot, seq: header.seq.rawValue, position: position)
            dedup.insert(DedupWindow.Entry(keyHash: keyHash, user: header.user.rawValue, seq: header.seq.rawValue))
        case .ack:
            let index = extrasIndexCreating(slot)
            _ = extras[index].advance(header.device, to: header.seq)
        case .block:
            let index = extrasIndexCreating(slot)
            extras[index].blocked.insert(header.sender)
        case .unblock:
            let index = extrasIndexCreating(slot)
            extras[index].blocked.remove(header.sender)
        case .epochChange:
            states[slot].epoch = UInt32(truncatingIfNeeded: header.clientMessageID.rawValue)
            let lostFirst = UInt32(truncatingIfNeeded: header.sender.rawValue)
            let lostLast = UInt32(truncatingIfNeeded: header.device.rawValue)
            // Lost seqs beyond the newest the log still holds (a lost tail) stay used: the newest
            // seq never goes back (DESIGN.md invariant 3), so later appends never reuse them.
            if lostFirst <= lostLast, lostLast > states[slot].newestSeq, lostLast - states[slot].newestSeq <= Recovery.gapSeqsMax {
                for seq in (states[slot].newestSeq + 1) ... lostLast {
                    appendPosition(slot: slot, seq: seq, position: PositionVector.acknowledgedLostMarker)
                }
            }
            acknowledgeLost(slot: slot, first: lostFirst, last: lostLast)
        case .padding:
            break
        }
    }

    /// Retention: forgets the positions of records in deleted segments (below `cutoff`).
    func dropPositions(below cutoff: UInt64) {
        for slot in states.indices {
            let drop = states[slot].positions.countBelow(cutoff)
            guard drop > 0 else { continue }
            states[slot].positions.removeFirst(drop)
            states[slot].firstSeq += UInt32(drop)
            indexedMessages -= drop
        }
    }
}
