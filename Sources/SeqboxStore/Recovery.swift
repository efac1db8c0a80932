import SeqboxFormat
import SeqboxSystem

/// What recovery hands to the store it opens.
struct RecoveredState {
    var report: RecoveryReport
    var table: MailboxTable
    var dedup: DedupWindow
    var segments: [Segment]
    var activeIndex: [IndexEntry]
    var lastRecordPosition: UInt64
    var lastRecordChecksum: UInt64
    /// True when a fresh checkpoint should be written before accepting work.
    var wantsCheckpoint: Bool
}

/// Opening a store: find the segments, learn sealed segments' extents from their index files
/// (rebuilding missing ones), load the newest valid checkpoint, replay the log after it,
/// truncate a torn tail, and account for every loss in a `RecoveryReport`
/// (FORMAT.md "Recovery").
struct Recovery {
    let directory: String
    let options: StoreOptions
    let fileSystem: any FileSystem
    let logDirectory: String

    /// Largest seq jump accepted as a gap of lost records; a bigger jump means the record
    /// itself is wrong.
    static let gapSeqsMax: UInt32 = 50_000_000

    private var report = RecoveryReport()
    private let table = MailboxTable()
    private let dedup: DedupWindow
    private var segments: [Segment] = []
    private var reportedCorruption: Set<UInt64> = []
    /// Log ranges [start, end) that failed to decode: positions inside them (from a
    /// checkpoint) are lost records.
    private var corruptRegions: [(start: UInt64, end: UInt64)] = []
    /// Segments whose scan found corruption: their index is not written, so every open
    /// rescans and re-reports them until a repair.
    private var corruptSegments: Set<LogPosition> = []
    /// Lost ranges not (yet) acknowledged by an epoch-change record.
    private var pendingLost: [RecoveryReport.LostRange] = []
    /// True when replay starts at the oldest retained segment without a checkpoint, so a
    /// mailbox's first seen seq may follow seqs deleted by retention.
    private var replayFromOldest = true
    private var lastRecordPosition = CheckpointCodec.noRecord
    private var lastRecordChecksum: UInt64 = 0

    init(directory: String, options: StoreOptions) {
        self.directory = directory
        self.options = options
        self.fileSystem = options.fileSystem
        self.logDirectory = directory + "/" + FormatConstants.segmentDirectoryName
        self.dedup = DedupWindow(capacity: options.dedupWindowEntries)
    }

    consuming func run() throws(StoreError) -> RecoveredState {
        let started = monotonicNanoseconds()
        let names: [String]
        do { names = try fileSystem.list(logDirectory) } catch { throw StoreError.from(error) }
        for name in names where name.hasSuffix(".tmp") { try? fileSystem.remove(logDirectory + "/" + name) }

        try openSegments(names.compactMap(FileNames.segmentBase).sorted())
        try measureSealedSegments(indexNames: Set(names.compactMap(FileNames.indexBase)))
        checkChain()
        let replayFrom = loadCheckpoint(names.compactMap(FileNames.checkpointPosition).sorted(by: >))
        let activeIndex = try replay(from: replayFrom)
        if !corruptRegions.isEmpty {
            pendingLost += table.markLost(inside: corruptRegions)
        }
        report.lostRanges = pendingLost
        report.durationMs = Double(monotonicNanoseconds() - started) / 1e6

        if report.hasLoss && options.corruptionPolicy == .refuse {
            throw .corrupt(report)
        }
        let wantsCheckpoint = report.recordsReplayed > 0 || report.tornTail != nil || !report.indexFilesRebuilt.isEmpty
        return RecoveredState(report: report, table: table, dedup: dedup, segments: segments, activeIndex: activeIndex,
                              lastRecordPosition: lastRecordPosition, lastRecordChecksum: lastRecordChecksum,
                              wantsCheckpoint: wantsCheckpoint)
    }

    // MARK: Segments

    private mutating func openSegments(_ bases: [LogPosition]) throws(StoreError) {
        report.segmentsFound = bases.count
        for (index, base) in bases.enumerated() {
            let path = logDirectory + "/" + FileNames.segment(base)
            do throws(StoreError) {
                segments.append(try Segment.open(path: path, base: base, fileSystem: fileSystem))
            } catch {
                if case .unsupportedVersion = error { throw error }
                if index == bases.count - 1, isZeroFile(path) {
                    // Created at a roll, the crash came before its header was durable: nothing
                    // was ever written to it. Drop it.
                    try? fileSystem.remove(path)
                    continue
                }
                guard case .corruptFile(_, let reason) = error else { throw error }
                if let segment = try? Segment.openUnverified(path: path, base: base, fileSystem: fileSystem) {
                    // The header is damaged; the records may not be. Read them by the name's base.
                    segments.append(segment)
                    noteCorruption(segment, offset: 0, problem: "segment header: \(reason)", resumeAt: FormatConstants.segmentHeaderSize)
                    continue
                }
                report.missingSegments.append("\(FileNames.segment(base)): \(reason)")
            }
        }
        if segments.isEmpty {
            let base = LogPosition(0)
            if !report.missingSegments.isEmpty {
                throw .corrupt(report)
            }
            segments.append(try Segment.create(directory: logDirectory, base: base, capacity: options.segmentBytes,
                                               createdMs: options.clock(), fileSystem: fileSystem))
        }
        segments.last!.sealed = false
    }

    private func isZeroFile(_ path: String) -> Bool {
        guard let file = try? fileSystem.openReadOnly(path) else { return false }
        defer { file.close() }
        guard let size = try? file.size() else { return false }
        guard size > 0 else { return true }
        guard let mapping = try? file.map(length: Int(size)) else { return false }
        return SegmentScanner.endOfNonzero(mapping.bytes, from: 0) == 0
    }

    /// Sealed segments: extent and record count from a valid index file, else from a scan
    /// (then the index is rewritten).
    private mutating func measureSealedSegments(indexNames: Set<LogPosition>) throws(StoreError) {
        for segment in segments.dropLast() {
            segment.sealed = true
            if indexNames.contains(segment.base), let summary = loadIndexSummary(segment) {
                segment.length = Int(summary.segmentLength)
                segment.recordCount = summary.entryCount
                if let last = summary.lastEntry,
                   case .record(let header) = RecordCodec.decode(segment.bytes, at: Int(last.offset), segmentBase: segment.base) {
                    segment.newestTimestampMs = header.timestampMs
                }
                continue
            }
            let entries = scanForIndex(segment)
            if corruptSegments.contains(segment.base) { continue }
            let index = IndexFile(basePosition: segment.base, segmentLength: UInt64(segment.length), entries: entries)
            do {
                try fileSystem.writeAtomically(index.encode(), to: logDirectory + "/" + FileNames.index(segment.base), directory: logDirectory)
            } catch {
                throw StoreError.from(error)
            }
            report.indexFilesRebuilt.append(segment.base)
        }
    }

    /// A segment's index file, verified: checksum, base, extent, and its last entry against the
    /// log. Only the header and last entry are decoded; the mapping is released on return.
    private func loadIndexSummary(_ segment: Segment) -> IndexFile.Summary? {
        let path = logDirectory + "/" + FileNames.index(segment.base)
        guard let file = try? fileSystem.openReadOnly(path) else { return nil }
        defer { file.close() }
        guard let size = try? file.size(), size > 0, let mapping = try? file.map(length: Int(size)) else { return nil }
        guard let summary = try? IndexFile.summarize(mapping.bytes),
              summary.basePosition == segment.base,
              summary.segmentLength >= UInt64(FormatConstants.segmentHeaderSize),
              summary.segmentLength <= UInt64(segment.capacity) else { return nil }
        if let last = summary.lastEntry {
            guard case .record(let header) = RecordCodec.decode(segment.bytes, at: Int(last.offset), segmentBase: segment.base),
                  header.seq == last.seq, header.user == last.user,
                  Int(last.offset) + header.recordSize == Int(summary.segmentLength) else { return nil }
        } else if summary.segmentLength != UInt64(FormatConstants.segmentHeaderSize) {
            return nil
        }
        return summary
    }

    /// Scans a whole sealed segment for its records (and its extent), noting corruption.
    private mutating func scanForIndex(_ segment: Segment) -> [IndexEntry] {
        var entries: [IndexEntry] = []
        var scanner = SegmentScanner(bytes: segment.bytes, base: segment.base)
        var end = FormatConstants.segmentHeaderSize
        while let event = scanner.next() {
            switch event {
            case .record(let offset, let header):
                entries.append(Self.indexEntry(header, offset: offset))
                end = offset + header.recordSize
                segment.newestTimestampMs = max(segment.newestTimestampMs, header.timestampMs)
            case .invalid(let offset, let problem, let resumeAt):
                noteCorruption(segment, offset: offset, problem: problem.rawValue, resumeAt: resumeAt)
                if resumeAt == nil { end = max(end, SegmentScanner.endOfNonzero(segment.bytes, from: offset)) }
            case .end(let offset):
                // Zeros inside a sealed segment followed by valid records: a zeroed hole.
                if let next = SegmentScanner.findNextRecord(in: segment.bytes, after: offset - FormatConstants.recordAlignment, base: segment.base) {
                    noteCorruption(segment, offset: offset, problem: "zeroed bytes inside sealed data", resumeAt: next)
                    scanner = SegmentScanner(bytes: segment.bytes, base: segment.base, start: next)
                }
            }
        }
        segment.length = FormatConstants.alignUp(end, to: FormatConstants.recordAlignment)
        segment.recordCount = entries.count
        return entries
    }

    static func indexEntry(_ header: RecordHeader, offset: Int) -> IndexEntry {
        IndexEntry(offset: UInt32(offset), seq: header.seq, user: header.user, type: header.type, flags: header.flags,
                   storedLength: header.storedLength, keyHash: header.type == .message ? IdempotencyKey.hash(header) : 0)
    }

    private mutating func noteCorruption(_ segment: Segment, offset: Int, problem: String, resumeAt: Int?) {
        let key = segment.base.rawValue + UInt64(offset)
        guard reportedCorruption.insert(key).inserted else { return }
        let skipped = (resumeAt ?? SegmentScanner.endOfNonzero(segment.bytes, from: offset)) - offset
        corruptRegions.append((key, key + UInt64(max(skipped, FormatConstants.recordAlignment))))
        corruptSegments.insert(segment.base)
        report.corruptions.append(RecoveryReport.Corruption(segment: segment.base, offset: offset, problem: problem, bytesSkipped: max(skipped, 0)))
    }

    /// Each segment must start where the previous one's records end.
    private mutating func checkChain() {
        for (previous, next) in zip(segments, segments.dropFirst()) {
            let expected = previous.endPosition
            if next.base != expected {
                if next.base > expected { corruptRegions.append((expected.rawValue, next.base.rawValue)) }
                report.missingSegments.append("log bytes \(expected)..<\(next.base) (between \(FileNames.segment(previous.base)) and \(FileNames.segment(next.base)))")
            }
        }
    }

    // MARK: Checkpoint

    /// Loads the newest checkpoint that verifies and that the log really reaches; returns
    /// the position replay starts from.
    private mutating func loadCheckpoint(_ positions: [LogPosition]) -> LogPosition {
        let oldest = segments.first!.base
        for position in positions {
            var lostInCheckpoint: [RecoveryReport.LostRange] = []
            let name = FileNames.checkpoint(position)
            guard let file = try? fileSystem.openReadOnly(logDirectory + "/" + name) else { continue }
            // Mapped, not read: a checkpoint of a large store is ~8 bytes a message, and the
            // mapping's pages are released as soon as loading is done.
            let mapping = (try? file.size()).flatMap { size in size > 0 ? try? file.map(length: Int(size)) : nil }
            file.close()
            guard let mapping else {
                report.checkpointProblems.append("\(name): unreadable or empty")
                continue
            }
            do {
                try withExtendedLifetime(mapping) {
                    let raw = mapping.bytes
                    let header = try CheckpointCodec.verify(raw)
                    guard header.position == position else { throw CheckpointCodec.Problem.inconsistent("position differs from its name") }
                    try checkLogReaches(header)
                    let table = self.table
                    try CheckpointCodec.decode(raw, header: { header in table.reserveCapacity(header.mailboxCount) },
                                               mailbox: { view in lostInCheckpoint += self.loadMailbox(view) }, dedup: { entry in
                        self.dedup.insert(DedupWindow.Entry(keyHash: entry.keyHash, user: entry.user.rawValue, seq: entry.seq.rawValue))
                    })
                    lastRecordPosition = header.lastRecordPosition
                    lastRecordChecksum = header.lastRecordChecksum
                }
            } catch {
                report.checkpointProblems.append("\(name): \(error)")
                resetState()
                continue
            }
            report.checkpointUsed = position
            pendingLost += lostInCheckpoint
            if position < oldest {
                report.checkpointProblems.append("\(name) is older than the oldest retained segment: cursors and blocks recorded in deleted segments after it are missing")
                table.dropPositions(below: oldest.rawValue)
                return oldest
            }
            table.dropPositions(below: oldest.rawValue)
            replayFromOldest = false
            return position
        }
        return oldest
    }

    private func checkLogReaches(_ header: CheckpointCodec.Header) throws {
        guard header.lastRecordPosition != CheckpointCodec.noRecord else { return }
        guard header.lastRecordPosition < header.position.rawValue else { throw CheckpointCodec.Problem.inconsistent("last record beyond the covered position") }
        guard header.lastRecordPosition >= segments.first!.base.rawValue else { return }
        let last = segments.last!
        guard header.position.rawValue <= last.base.rawValue + UInt64(last.capacity),
              let index = SegmentLookup.index(holding: header.lastRecordPosition, count: segments.count, base: { segments[$0].base.rawValue }),
              case .record(let record) = RecordCodec.decode(segments[index].bytes, at: Int(header.lastRecordPosition - segments[index].base.rawValue),
                                                            segmentBase: segments[index].base),
              record.checksum == header.lastRecordChecksum else {
            throw CheckpointCodec.Problem.inconsistent("the log does not hold the checkpoint's last record")
        }
    }

    /// Loads one mailbox from a checkpoint; returns its unacknowledged lost seqs.
    private func loadMailbox(_ view: CheckpointCodec.MailboxView) -> [RecoveryReport.LostRange] {
        var lost: [RecoveryReport.LostRange] = []
        let slot = table.slotCreating(view.user)
        table.states[slot].newestSeq = view.newestSeq.rawValue
        table.states[slot].epoch = view.epoch.rawValue
        let count = view.positionCount
        if count > 0 {
            // Positions are stored little-endian, the host order of every supported target.
            table.states[slot].positions.append(littleEndianPositions: view.positions)
            table.states[slot].firstSeq = view.firstSeq.rawValue
            table.indexedMessages += count
            lost = table.unacknowledgedLost(slot: slot)
        } else {
            table.states[slot].firstSeq = view.newestSeq.rawValue &+ 1
        }
        if !view.cursors.isEmpty || !view.blocked.isEmpty {
            let index = table.extrasIndexCreating(slot)
            table.extras[index].cursors = view.cursors
            table.extras[index].blocked = Set(view.blocked)
        }
        return lost
    }

    private func resetState() {
        for slot in table.states.indices { table.states[slot].positions.free() }
        table.states.removeAll()
        table.extras.removeAll()
        table.indexedMessages = 0
        table.resetUsers()
        dedup.removeAll()
    }

    // MARK: Replay

    /// Replays every record at or after `start`; returns the active segment's index entries.
    private mutating func replay(from start: LogPosition) throws(StoreError) -> [IndexEntry] {
        for segment in segments {
            let segmentEnd = segment.base.rawValue + UInt64(segment.sealed ? segment.length : segment.capacity)
            if segment.sealed && segmentEnd <= start.rawValue { continue }
            let from = max(Int(Int64(start.rawValue) - Int64(segment.base.rawValue)), FormatConstants.segmentHeaderSize)
            report.segmentsReplayed += 1
            if segment.sealed {
                // Everything replayed is verified: scanning checks each record's checksum.
                replayByScanning(segment, from: from)
            } else {
                return try replayActive(segment, from: from)
            }
        }
        preconditionFailure("the last segment is always active")
    }

    private mutating func replayByScanning(_ segment: Segment, from: Int) {
        var scanner = SegmentScanner(bytes: segment.bytes, base: segment.base, start: from, limit: segment.length)
        while let event = scanner.next() {
            switch event {
            case .record(let offset, let header):
                applyScanned(header, segment: segment, offset: offset)
            case .invalid(let offset, let problem, let resumeAt):
                noteCorruption(segment, offset: offset, problem: problem.rawValue, resumeAt: resumeAt)
            case .end:
                break
            }
        }
        report.bytesReplayed += Int64(segment.length - from)
    }

    /// The active segment: records up to the first damage. Damage that a crash can explain
    /// (bytes of the last, unsynced batch) is a torn tail: dropped, zeroed and reported. Damage
    /// that a crash cannot explain is corruption (see `classifyDamage`).
    private mutating func replayActive(_ segment: Segment, from: Int) throws(StoreError) -> [IndexEntry] {
        var entries: [IndexEntry] = []
        var scanner = SegmentScanner(bytes: segment.bytes, base: segment.base)
        var end = FormatConstants.segmentHeaderSize
        scan: while let event = scanner.next() {
            switch event {
            case .record(let offset, let header):
                entries.append(Self.indexEntry(header, offset: offset))
                if offset >= from { applyScanned(header, segment: segment, offset: offset) }
                end = offset + header.recordSize
            case .invalid(let offset, let problem, let resumeAt):
                if try classifyDamage(segment, at: offset, problem: problem.rawValue, from: from, resumeAt: resumeAt) {
                    continue scan  // the scanner resumes at `resumeAt`
                }
                end = offset
                break scan
            case .end(let offset):
                // Zeros: the end of data, unless valid records lie beyond them.
                let later = SegmentScanner.findNextRecord(in: segment.bytes, after: offset - FormatConstants.recordAlignment, base: segment.base)
                if let later, try classifyDamage(segment, at: offset, problem: "zeros before later records", from: from, resumeAt: later) {
                    scanner = SegmentScanner(bytes: segment.bytes, base: segment.base, start: later)
                    continue scan
                }
                if later == nil, offset < segment.capacity {
                    let dirtyEnd = SegmentScanner.endOfNonzero(segment.bytes, from: offset)
                    if dirtyEnd > offset {
                        // Stray bytes after the end that are not a record: a torn write.
                        report.tornTail = RecoveryReport.TornTail(segment: segment.base, offset: offset, bytesDropped: dirtyEnd - offset,
                                                                  problem: "bytes after the end of data", recordsDroppedAfter: 0)
                        try zero(segment, from: offset, to: dirtyEnd)
                    }
                }
                end = offset
                break scan
            }
        }
        segment.mapping.releasePages(from: end)
        segment.length = end
        segment.recordCount = entries.count
        report.bytesReplayed += Int64(max(0, end - from))
        return entries
    }

    /// Decides what damage at `offset` of the active segment is. Returns true when it is
    /// corruption and scanning should go on at `resumeAt`; false when scanning ends here (a
    /// torn tail, now zeroed, or corruption with nothing valid after it).
    ///
    /// A crash can tear only what was not yet synced. In `sync` mode each batch is written only
    /// after the previous one was synced, and the writer flags each batch's first record, so a
    /// valid batch-start record after the damage proves the damaged bytes had been synced.
    /// Damage below the checkpoint's position was synced too. Either is corruption of
    /// acknowledged data. Otherwise the damage and every record after it belong to the last,
    /// unacknowledged batch: a torn tail.
    private mutating func classifyDamage(_ segment: Segment, at offset: Int, problem: String, from: Int, resumeAt: Int?) throws(StoreError) -> Bool {
        var laterRecords = 0
        var sawBatchStart = false
        var cursor = resumeAt
        while let next = cursor, case .record(let header) = RecordCodec.decode(segment.bytes, at: next, segmentBase: segment.base) {
            laterRecords += 1
            if header.flags & FormatConstants.flagBatchStart != 0 { sawBatchStart = true }
            cursor = SegmentScanner.findNextRecord(in: segment.bytes, after: next + header.recordSize - FormatConstants.recordAlignment, base: segment.base)
        }
        let synced = offset < from || sawBatchStart
        if synced {
            noteCorruption(segment, offset: offset, problem: problem, resumeAt: resumeAt)
            return resumeAt != nil
        }
        let dirtyEnd = SegmentScanner.endOfNonzero(segment.bytes, from: offset)
        report.tornTail = RecoveryReport.TornTail(segment: segment.base, offset: offset, bytesDropped: dirtyEnd - offset,
                                                  problem: problem, recordsDroppedAfter: laterRecords)
        try zero(segment, from: offset, to: dirtyEnd)
        return false
    }

    private func zero(_ segment: Segment, from: Int, to end: Int) throws(StoreError) {
        guard end > from else { return }
        let zeros = [UInt8](repeating: 0, count: min(end - from, 1 << 20))
        var offset = from
        do throws(SystemError) {
            while offset < end {
                let count = min(zeros.count, end - offset)
                try segment.file.write(Array(zeros[0 ..< count]), at: Int64(offset))
                offset += count
            }
            try segment.file.sync()
        } catch {
            throw StoreError.from(error)
        }
    }

    private mutating func applyScanned(_ header: RecordHeader, segment: Segment, offset: Int) {
        let keyHash = header.type == .message ? IdempotencyKey.hash(header) : 0
        applyReplayed(header, position: segment.base.rawValue + UInt64(offset), keyHash: keyHash, segment: segment, offset: offset)
        lastRecordPosition = segment.base.rawValue + UInt64(offset)
        lastRecordChecksum = header.checksum
        report.recordsReplayed += 1
        if header.timestampMs > segment.newestTimestampMs { segment.newestTimestampMs = header.timestampMs }
    }

    /// Applies a replayed record, turning seq gaps into explicit lost ranges.
    private mutating func applyReplayed(_ header: RecordHeader, position: UInt64, keyHash: UInt64, segment: Segment, offset: Int) {
        if header.type == .padding { return }
        let slot = table.slotCreating(header.user)
        switch header.type {
        case .message:
            let seq = header.seq.rawValue
            let newest = table.states[slot].newestSeq
            if seq <= newest {
                if table.states[slot].position(of: seq) == position { return }  // already in the checkpoint
                noteCorruption(segment, offset: offset, problem: "seq \(seq) of user \(header.user) repeats (newest is \(newest))", resumeAt: nil)
                return
            }
            if seq > newest + 1 {
                if seq - newest - 1 > Self.gapSeqsMax {
                    noteCorruption(segment, offset: offset, problem: "seq of user \(header.user) jumps from \(newest) to \(seq)", resumeAt: nil)
                    return
                }
                if replayFromOldest && table.states[slot].positions.count == 0 {
                    // The mailbox's older records were deleted by retention.
                    table.states[slot].newestSeq = seq - 1
                    table.states[slot].firstSeq = seq
                } else {
                    pendingLost.append(RecoveryReport.LostRange(user: header.user, first: Seq(newest + 1), last: Seq(seq - 1)))
                    for lost in (newest + 1) ..< seq {
                        table.appendPosition(slot: slot, seq: lost, position: PositionVector.lostMarker)
                    }
                }
            }
            table.apply(header, slot: slot, position: position, keyHash: keyHash, dedup: dedup)
        case .epochChange:
            let first = UInt32(truncatingIfNeeded: header.sender.rawValue)
            let last = UInt32(truncatingIfNeeded: header.device.rawValue)
            pendingLost.removeAll { $0.user == header.user && $0.first.rawValue >= first && $0.last.rawValue <= last }
            table.apply(header, slot: slot, position: position, keyHash: keyHash, dedup: dedup)
        default:
            table.apply(header, slot: slot, position: position, keyHash: keyHash, dedup: dedup)
        }
    }
}

extension MailboxStore {
    /// Work done once recovery has produced the state, before the writer starts.
    func finishOpen(_ recovered: RecoveredState) throws(StoreError) {
        if recovered.wantsCheckpoint {
            // Best effort: a full disk must not stop a store from opening.
            do throws(StoreError) { try writeCheckpoint() } catch {
                if case .diskFull = error { return }
                throw error
            }
        }
    }
}
