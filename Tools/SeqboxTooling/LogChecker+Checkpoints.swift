import SeqboxFormat
import SeqboxStore

/// Comparing a checkpoint with the state the scan has accumulated when it reaches the
/// checkpoint's position: mailbox heads, positions (by digest), cursors, blocklists, epochs and
/// the idempotency window. Seqs a checkpoint knows that the log lacks become lost ranges.
extension LogChecker {
    /// Checks every checkpoint whose position the scan has reached (`logEnd` set: the end of
    /// the scan, checking the rest).
    mutating func checkCheckpoints(reaching position: UInt64, logEnd: UInt64?) {
        while nextCheckpoint < checkpoints.count, checkpointPositions[nextCheckpoint] <= position {
            check(checkpoints[nextCheckpoint].wait(), logEnd: logEnd)
            nextCheckpoint += 1
        }
        nextCheckpointPosition = nextCheckpoint < checkpoints.count ? checkpointPositions[nextCheckpoint] : .max
    }

    private mutating func check(_ summary: CheckpointSummary, logEnd: UInt64?) {
        let image = summary.image
        if let problem = summary.problem {
            mismatchedCheckpoints.insert(image.position)
            problems.add(Problem(.checkpointInvalid, file: image.name, problem))
            return
        }
        var comparison = CheckpointComparison()
        let header = image.header
        if let logEnd, header.position.rawValue > logEnd {
            comparison.differ("it covers the log up to \(header.position) but the log ends at \(logEnd)")
        }
        if header.lastRecordPosition != CheckpointImage.noRecord, header.lastRecordPosition >= oldestBase {
            let holdsLast = locateRecord(header.lastRecordPosition, before: header.position.rawValue).map {
                UInt64(littleEndian: $0.bytes.loadUnaligned(fromByteOffset: $0.offset, as: UInt64.self)) == header.lastRecordChecksum
            } ?? false
            if !holdsLast { comparison.differ("the log does not hold its last record (position \(header.lastRecordPosition))") }
        }
        if header.mailboxCount < ledger.count {
            comparison.differ("it has \(header.mailboxCount) mailboxes, the log \(ledger.count) by then")
        }
        for mailbox in summary.mailboxes { compareMailbox(mailbox, summary: summary, comparison: &comparison) }
        compareDedup(summary.dedup, comparison: &comparison)
        if comparison.differences > 0 {
            mismatchedCheckpoints.insert(image.position)
            problems.add(Problem(.checkpointMismatch, file: image.name,
                                 "disagrees with the log in \(comparison.differences) places: " + comparison.examples.joined(separator: "; ")))
        }
    }

    private mutating func compareMailbox(_ mailbox: CheckpointSummary.Mailbox, summary: CheckpointSummary, comparison: inout CheckpointComparison) {
        // The store keeps an empty mailbox for every user it saw any record of.
        if mailbox.isEmpty && ledger.slot(of: mailbox.user) == nil { return }
        let slot = ledger.slotCreating(mailbox.user)
        let tally = ledger.tallies[slot]
        // Seqs the checkpoint has that the log does not: lost.
        if mailbox.newestSeq.rawValue > tally.newestSeq {
            let lower = tally.seen ? tally.newestSeq + 1 : logIsComplete ? 1 : mailbox.firstSeqInLog
            if lower <= mailbox.newestSeq.rawValue {
                checkpointLost.add(mailbox.user, lower ... mailbox.newestSeq.rawValue)
                comparison.differ("user \(mailbox.user) has newest seq \(mailbox.newestSeq), the log \(tally.newestSeq)")
            }
            ledger.tallies[slot].newestSeq = mailbox.newestSeq.rawValue
            ledger.tallies[slot].seen = true
        } else if mailbox.newestSeq.rawValue < tally.newestSeq {
            comparison.differ("user \(mailbox.user) has newest seq \(mailbox.newestSeq), the log already \(tally.newestSeq)")
        }
        if mailbox.epoch.rawValue != tally.epoch {
            if logIsComplete || mailbox.epoch.rawValue < tally.epoch {
                comparison.differ("user \(mailbox.user) is at epoch \(mailbox.epoch), the log says \(tally.epoch)")
            }
            ledger.tallies[slot].epoch = max(tally.epoch, mailbox.epoch.rawValue)
        }
        compareCursorsAndBlocks(mailbox, slot: slot, comparison: &comparison)
        if mailbox.digest != tally.positionDigest {
            comparePositions(mailbox, summary: summary, comparison: &comparison)
        }
    }

    private mutating func compareCursorsAndBlocks(_ mailbox: CheckpointSummary.Mailbox, slot: Int, comparison: inout CheckpointComparison) {
        let extras = ledger.extras(of: slot) ?? MailboxLedger.Extras()
        for cursor in mailbox.cursors {
            let logged = extras.cursors.first { $0.device == cursor.device }?.seq ?? .zero
            if logged > cursor.seq || (logIsComplete && logged != cursor.seq) {
                comparison.differ("user \(mailbox.user) device \(cursor.device) cursor is \(cursor.seq), the log says \(logged)")
            }
            // Without the oldest segments, the checkpoint is the only record of older acks.
            if !logIsComplete { ledger.advanceCursor(slot: slot, device: cursor.device, to: cursor.seq) }
        }
        for cursor in extras.cursors where !mailbox.cursors.contains(where: { $0.device == cursor.device }) {
            comparison.differ("user \(mailbox.user) device \(cursor.device) has cursor \(cursor.seq) in the log, none in the checkpoint")
        }
        let blocked = Set(mailbox.blocked)
        if logIsComplete {
            if blocked != extras.blocked {
                comparison.differ("user \(mailbox.user) blocks \(blocked.count) users, the log says \(extras.blocked.count)")
            }
        } else if !blocked.isEmpty || !extras.blocked.isEmpty {
            let index = ledger.extrasIndexCreating(slot)
            ledger.extras[index].blocked = blocked
        }
    }

    /// The position digests differ: find which of the checkpoint's positions do not hold
    /// their message.
    private func comparePositions(_ mailbox: CheckpointSummary.Mailbox, summary: CheckpointSummary, comparison: inout CheckpointComparison) {
        var differences = 0
        for index in 0 ..< mailbox.positionCount {
            let recordPosition = summary.position(mailbox, index)
            if recordPosition >= CheckpointSummary.lostMarkerMinimum || recordPosition < oldestBase { continue }
            let seq = mailbox.firstSeq.rawValue &+ UInt32(index)
            if !holdsMessage(at: recordPosition, user: mailbox.user, seq: seq, before: summary.image.position.rawValue) {
                differences += 1
                comparison.differ("user \(mailbox.user) seq \(seq) is not at position \(recordPosition)")
            }
        }
        if differences == 0 {
            comparison.differ("user \(mailbox.user): the log holds messages the checkpoint does not list")
        }
    }

    /// The checkpoint's window (oldest first) must be the latest messages of the log, as far
    /// back as the log goes.
    private func compareDedup(_ entries: [DedupRingEntry], comparison: inout CheckpointComparison) {
        var differences = 0
        var first = ""
        for (index, entry) in entries.enumerated() {
            let fromNewest = entries.count - 1 - index
            guard fromNewest < ring.count, fromNewest < ringPushes else { continue }
            let logged = ring[(ringPushes - 1 - fromNewest) % ringCapacity]
            if logged != entry {
                if differences == 0 {
                    first = "entry \(index) is user \(entry.user) seq \(entry.seq), the log's is user \(logged.user) seq \(logged.seq)"
                }
                differences += 1
            }
        }
        if differences > 0 {
            comparison.differ("its dedup window differs from the log's latest messages in \(differences) of \(entries.count) entries (first: \(first))")
        }
    }

    /// The segment bytes and offset of a verified record at `position` (below `limit`).
    private func locateRecord(_ position: UInt64, before limit: UInt64) -> (bytes: UnsafeRawBufferPointer, offset: Int)? {
        guard position < limit, position % UInt64(FormatConstants.recordAlignment) == 0, !isDamaged(position) else { return nil }
        guard let index = SegmentLookup.index(holding: position, count: segments.count, base: { segments[$0].base.rawValue }) else {
            return nil
        }
        let segment = segments[index]
        let offset = position - segment.base.rawValue
        guard offset >= UInt64(FormatConstants.segmentHeaderSize),
              offset + UInt64(FormatConstants.recordHeaderSize) <= UInt64(segment.size) else { return nil }
        return (segment.bytes, Int(offset))
    }

    private func holdsMessage(at position: UInt64, user: UserID, seq: UInt32, before limit: UInt64) -> Bool {
        guard let (bytes, offset) = locateRecord(position, before: limit) else { return false }
        return bytes[offset + 12] == RecordType.message.rawValue &&
            UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)) == user.rawValue &&
            UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 24, as: UInt32.self)) == seq
    }

    private func isDamaged(_ position: UInt64) -> Bool {
        var low = 0
        var high = damaged.count
        while low < high {
            let middle = (low + high) / 2
            if damaged[middle].start <= position { low = middle + 1 } else { high = middle }
        }
        return low > 0 && position < damaged[low - 1].end
    }

    /// Marks log bytes as damaged (a torn tail), so no checkpoint position may point there.
    mutating func markDamaged(from start: UInt64, to end: UInt64) { damaged.append((start, end)) }
}
