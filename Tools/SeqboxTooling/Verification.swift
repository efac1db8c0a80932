import SeqboxFormat
import SeqboxStore

/// One segment as fsck found it.
struct SegmentState {
    let file: SegmentFile
    let isActive: Bool
    /// The extent the chain implies (next base minus this base), for sealed segments.
    let expectedEnd: Int?
    var walk: SegmentWalk

    var base: LogPosition { file.base }
    var endPosition: UInt64 { base.rawValue + UInt64(walk.dataEnd) }
}

/// A stretch of log positions that no segment file holds.
struct LogGap: Equatable {
    var start: UInt64
    var end: UInt64
    var length: Int { Int(end - start) }
}

/// Everything one verification found: the problems for the report, the totals, and the facts
/// a repair acts on.
struct Verification {
    var files: StoreFiles
    var problems = ProblemList()
    /// Findings that are not damage (leftover temporary files, unknown names).
    var notes: [String] = []
    /// Lost seqs no epoch change acknowledges yet.
    var lost = LostRanges()
    /// Lost seqs that epoch-change records already acknowledge (an earlier repair).
    var acknowledgedLost = LostRanges()
    var totals = LogTotals()
    var segments: [SegmentState] = []
    /// Segment files that hold nothing usable and go (an empty last segment, a file shorter
    /// than a header).
    var unusableSegments: [LogPosition] = []
    var gaps: [LogGap] = []
    /// Index files to delete: invalid, disagreeing, orphaned.
    var badIndexes: Set<LogPosition> = []
    var badCheckpoints: Set<LogPosition> = []
    var validCheckpoints: [LogPosition] = []
    /// Damage a repair cannot fix by itself.
    var unrepairable: [String] = []
    /// Lost ranges an earlier, interrupted repair recorded (see `RepairJournal`).
    var pendingFromIncompleteRepairs = LostRanges()
    var seconds: Double = 0
    /// Segment bytes read (headers, records, damaged regions, torn tails).
    var bytesScanned: Int64 = 0

    init(files: StoreFiles) { self.files = files }

    var isClean: Bool { problems.isEmpty }
    var logEnd: UInt64 { segments.last?.endPosition ?? 0 }
}
