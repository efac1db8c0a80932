import SeqboxFormat
import SeqboxStore

/// fsck's record visitor: checks each valid record, in log order, against what came before
/// (per-mailbox seq contiguity, cursors, blocklists, epochs), against its segment's index file,
/// and, when the scan reaches a checkpoint's position, checks that checkpoint against the
/// state accumulated so far (mailbox heads, positions, cursors, blocklists, dedup window).
/// A struct passed `inout` through the walk: no runtime exclusivity checks per record.
struct LogChecker: RecordVisitor {
    /// Largest seq jump taken as lost records; a bigger jump means the record is wrong
    /// (the store's recovery uses the same bound).
    static let gapSeqsMax: UInt32 = 50_000_000
    /// Differences quoted in one checkpoint or index problem (all are counted).
    static let examplesMax = 3

    var ledger = MailboxLedger()
    var problems = ProblemList()
    var totals = LogTotals()
    /// Seqs missing from the log: gaps in a mailbox's sequence, and records an index file lists
    /// in damaged bytes.
    var gapLost = LostRanges()
    /// Seqs a checkpoint knows that the log does not hold.
    var checkpointLost = LostRanges()
    /// Index files and checkpoints that verify but disagree with the log (or, for a
    /// checkpoint, whose structure does not decode).
    var mismatchedIndexes: Set<LogPosition> = []
    var mismatchedCheckpoints: Set<LogPosition> = []
    /// Seqs epoch-change records declared lost (set by `finish`).
    private(set) var acknowledged = LostRanges()

    /// True when the log starts at position 0: nothing was deleted by retention, so every
    /// mailbox starts at seq 1 and every cursor and block is in the log.
    let logIsComplete: Bool
    let oldestBase: UInt64
    let segments: [SegmentFile]

    // The segment being walked.
    var segmentBase: UInt64 = 0
    var segmentName = ""
    var segmentDamage: [BadRegion] = []
    var index: IndexView?
    var indexCursor = 0
    var indexDifferences = 0
    var indexExamples: [String] = []

    /// Damaged log ranges [start, end) in positions, in log order.
    var damaged: [(start: UInt64, end: UInt64)] = []

    // Checkpoints, by position, checked when the scan passes their position.
    let checkpoints: [CheckpointSummary.Pending]
    let checkpointPositions: [UInt64]
    var nextCheckpoint = 0
    var nextCheckpointPosition = UInt64.max

    // The latest messages in log order, to compare with a checkpoint's dedup window.
    var ring: [DedupRingEntry] = []
    let ringCapacity: Int
    var ringPushes = 0

    init(segments: [SegmentFile], checkpoints images: [CheckpointImage]) {
        self.segments = segments
        self.oldestBase = segments.first?.base.rawValue ?? 0
        self.logIsComplete = oldestBase == 0
        let sorted = images.sorted { $0.position < $1.position }
        self.checkpointPositions = sorted.map(\.position.rawValue)
        self.checkpoints = CheckpointSummary.decodeInBackground(sorted, oldestBase: oldestBase)
        self.ringCapacity = sorted.map(\.header.dedupCount).max() ?? 0
        ring.reserveCapacity(ringCapacity)
        nextCheckpointPosition = checkpointPositions.first ?? .max
    }

    // MARK: Segments

    mutating func beginSegment(_ file: SegmentFile, index: IndexView?) {
        segmentBase = file.base.rawValue
        segmentName = file.name
        segmentDamage = []
        self.index = index
        indexCursor = 0
        indexDifferences = 0
        indexExamples = []
    }

    mutating func damaged(_ region: BadRegion) {
        segmentDamage.append(region)
        damaged.append((segmentBase + UInt64(region.start), segmentBase + UInt64(region.end)))
    }

    /// Ends the segment: entries its index lists past the last record, the index's extent.
    mutating func endSegment(dataEnd: Int) {
        guard let index else { return }
        while indexCursor < index.count { indexEntryMissing(index.entry(indexCursor)); indexCursor += 1 }
        let endsInDamage = segmentDamage.last.map { $0.end == dataEnd } ?? false
        if Int(index.summary.segmentLength) != dataEnd && !endsInDamage {
            indexDifference("its extent is \(index.summary.segmentLength) bytes, the segment's is \(dataEnd)")
        }
        if indexDifferences > 0 {
            mismatchedIndexes.insert(LogPosition(segmentBase))
            problems.add(Problem(.indexMismatch, file: FileNames.index(LogPosition(segmentBase)),
                                 "disagrees with its segment in \(indexDifferences) places: " + indexExamples.joined(separator: "; ")))
        }
        self.index = nil
    }

    // MARK: Records

    mutating func visit(offset: Int, header: RecordHeader) {
        let position = segmentBase + UInt64(offset)
        if position >= nextCheckpointPosition { checkCheckpoints(reaching: position, logEnd: nil) }
        totals.count(header.type)
        let keyHash = header.type == .message && (index != nil || ringCapacity > 0) ? IdempotencyKey.hash(header) : 0
        if index != nil { compareWithIndex(offset: offset, header: header, keyHash: keyHash) }
        switch header.type {
        case .message:
            checkMessage(header, offset: offset, keyHash: keyHash)
        case .padding:
            totals.paddingBytes += Int64(header.recordSize)
        default:
            let slot = ledger.slotCreating(header.user)
            ledger.applyState(header, slot: slot)
        }
    }

    private mutating func checkMessage(_ header: RecordHeader, offset: Int, keyHash: UInt64) {
        let slot = ledger.slotCreating(header.user)
        let seq = header.seq.rawValue
        var tally = ledger.tallies[slot]
        if !tally.seen {
            // Without retention every mailbox starts at 1; with it, the first seq seen is
            // where the retained range starts.
            if logIsComplete && seq > 1 { gapLost.add(header.user, 1 ... seq - 1) }
        } else if seq <= tally.newestSeq {
            problems.add(Problem(.seqOrder, file: segmentName, offset: offset,
                                 "user \(header.user) seq \(seq) repeats or goes back (newest is \(tally.newestSeq))"))
            return
        } else if seq > tally.newestSeq + 1 {
            if seq - tally.newestSeq - 1 > Self.gapSeqsMax {
                problems.add(Problem(.seqOrder, file: segmentName, offset: offset,
                                     "user \(header.user) seq jumps from \(tally.newestSeq) to \(seq)"))
                return
            }
            gapLost.add(header.user, tally.newestSeq + 1 ... seq - 1)
        }
        tally.seen = true
        tally.newestSeq = seq
        tally.messages += 1
        tally.storedBytes += Int64(header.storedLength)
        tally.rawBytes += Int64(header.rawLength)
        tally.positionDigest &+= MailboxLedger.digest(seq: seq, position: segmentBase + UInt64(offset))
        ledger.tallies[slot] = tally
        totals.messages += 1
        totals.storedPayloadBytes += Int64(header.storedLength)
        totals.rawPayloadBytes += Int64(header.rawLength)
        if ringCapacity > 0 {
            let entry = DedupRingEntry(keyHash: keyHash, user: header.user, seq: header.seq)
            if ring.count < ringCapacity {
                ring.append(entry)
            } else {
                ring[ringPushes % ringCapacity] = entry
            }
            ringPushes += 1
        }
    }

    // MARK: End of the scan

    /// Checks the remaining checkpoints and the cursors; returns the unacknowledged lost seqs.
    mutating func finish(logEnd: UInt64) -> LostRanges {
        checkCheckpoints(reaching: .max, logEnd: logEnd)
        for slot in ledger.slots.map(Int.init) {
            guard let extras = ledger.extras(of: slot) else { continue }
            for range in extras.acknowledgedLost { acknowledged.add(ledger.user(at: slot), range) }
        }
        var gaps = gapLost
        gaps.subtract(acknowledged)
        var tail = checkpointLost
        tail.subtract(gapLost)
        tail.subtract(acknowledged)
        for range in gaps.all {
            problems.add(Problem(.seqGap, "user \(range.user): " + Self.seqText(range) + " missing from the log"))
        }
        for range in tail.all {
            problems.add(Problem(.lostTail, "user \(range.user): " + Self.seqText(range) + (range.first == range.last ? " is" : " are") +
                                 " in a checkpoint but not in the log"))
        }
        var lost = gaps
        lost.add(tail)
        checkCursors(lost: lost)
        totals.users = ledger.count
        return lost
    }

    private mutating func checkCursors(lost: LostRanges) {
        for slot in ledger.slots.map(Int.init) {
            guard let extras = ledger.extras(of: slot) else { continue }
            let user = ledger.user(at: slot)
            let held = max(ledger.tallies[slot].newestSeq, lost.highest(user), extras.acknowledgedLost.map(\.upperBound).max() ?? 0)
            for cursor in extras.cursors where cursor.seq.rawValue > held {
                problems.add(Problem(.cursor, "user \(user) device \(cursor.device) acknowledged seq \(cursor.seq), beyond the newest seq \(held)"))
            }
        }
    }

    static func seqText(_ range: RecoveryReport.LostRange) -> String {
        range.first == range.last ? "seq \(range.first)" : "seqs \(range.first)-\(range.last)"
    }
}

/// One message of the dedup window as the log has it: its idempotency key, mailbox and seq.
struct DedupRingEntry: Sendable, Equatable {
    var keyHash: UInt64
    var user: UserID
    var seq: Seq
}

/// Differences between one checkpoint and the log: all counted, a few quoted.
struct CheckpointComparison {
    var differences = 0
    var examples: [String] = []

    mutating func differ(_ text: String) {
        differences += 1
        if examples.count < LogChecker.examplesMax { examples.append(text) }
    }
}
