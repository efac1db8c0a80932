import Dispatch
import SeqboxFormat
import SeqboxStore

/// A checkpoint decoded into what fsck compares with the log. Decoding a large checkpoint
/// costs as much as scanning a good part of the log, so it runs on a worker thread while the
/// scan proceeds (`CheckpointSummary.decodeInBackground`), and the comparison at the
/// checkpoint's position is then a cheap pass over this summary.
struct CheckpointSummary: Sendable {
    struct Mailbox: Sendable {
        var user: UserID
        var newestSeq: Seq
        var firstSeq: Seq
        var epoch: Epoch
        var cursors: [DeviceCursor]
        var blocked: [UserID]
        /// Where the mailbox's positions are in the checkpoint's bytes, and how many.
        var positionsOffset: Int
        var positionCount: Int
        /// `MailboxLedger.digest` summed over the positions in retained segments.
        var digest: UInt64
        /// The first seq whose position lies in a retained segment (or the newest + 1).
        var firstSeqInLog: UInt32
        var isEmpty: Bool { newestSeq == .zero && epoch == Epoch.initial && cursors.isEmpty && blocked.isEmpty }
    }

    /// Positions at or above this mark a lost seq (FORMAT.md "Checkpoint files": the store marks
    /// lost seqs with u64 max, and lost seqs an epoch change acknowledged with u64 max − 1).
    static let lostMarkerMinimum = UInt64.max - 1

    let image: CheckpointImage
    var mailboxes: [Mailbox] = []
    /// The idempotency window, oldest first.
    var dedup: [DedupRingEntry] = []
    /// Why the checkpoint's structure does not decode (its checksum verified).
    var problem: String?

    /// Decodes `image`; positions below `oldestBase` belong to segments removed by retention.
    static func decode(_ image: CheckpointImage, oldestBase: UInt64) -> CheckpointSummary {
        var summary = CheckpointSummary(image: image)
        summary.mailboxes.reserveCapacity(image.header.mailboxCount)
        summary.dedup.reserveCapacity(image.header.dedupCount)
        image.bytes.withUnsafeBytes { raw in
            do {
                try CheckpointCodec.decode(raw, mailbox: { view in
                    summary.mailboxes.append(mailbox(view, in: raw, oldestBase: oldestBase))
                }, dedup: { entry in
                    summary.dedup.append(DedupRingEntry(keyHash: entry.keyHash, user: entry.user, seq: entry.seq))
                })
            } catch {
                summary.problem = "\(error)"
            }
        }
        return summary
    }

    private static func mailbox(_ view: CheckpointCodec.MailboxView, in raw: UnsafeRawBufferPointer, oldestBase: UInt64) -> Mailbox {
        let positions = view.positions
        var digest: UInt64 = 0
        var firstInLog: UInt32?
        for index in 0 ..< view.positionCount {
            let position = UInt64(littleEndian: positions.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
            if position >= lostMarkerMinimum || position < oldestBase { continue }
            let seq = view.firstSeq.rawValue &+ UInt32(index)
            if firstInLog == nil { firstInLog = seq }
            digest &+= MailboxLedger.digest(seq: seq, position: position)
        }
        let offset = positions.baseAddress.map { $0 - raw.baseAddress! } ?? 0
        return Mailbox(user: view.user, newestSeq: view.newestSeq, firstSeq: view.firstSeq, epoch: view.epoch, cursors: view.cursors,
                       blocked: view.blocked, positionsOffset: offset, positionCount: view.positionCount, digest: digest,
                       firstSeqInLog: firstInLog ?? view.newestSeq.rawValue &+ 1)
    }

    /// The position of the mailbox's `index`th retained seq.
    func position(_ mailbox: Mailbox, _ index: Int) -> UInt64 {
        image.bytes.withUnsafeBytes { raw in
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: mailbox.positionsOffset + index * 8, as: UInt64.self))
        }
    }

    /// Starts decoding `images` in order, one after the other, on a worker thread.
    static func decodeInBackground(_ images: [CheckpointImage], oldestBase: UInt64) -> [Pending] {
        let queue = DispatchQueue(label: "seqbox-fsck.checkpoints")
        return images.map { image in
            let pending = Pending()
            queue.async { pending.complete(decode(image, oldestBase: oldestBase)) }
            return pending
        }
    }

    /// A summary being decoded; `wait()` blocks until it is ready.
    final class Pending: @unchecked Sendable {
        // Written once by the worker before `ready` is signalled, read after waiting on it.
        private var summary: CheckpointSummary?
        private let ready = DispatchSemaphore(value: 0)

        fileprivate func complete(_ value: CheckpointSummary) {
            summary = value
            ready.signal()
        }

        func wait() -> CheckpointSummary {
            ready.wait()
            defer { ready.signal() }
            return summary!
        }
    }
}
