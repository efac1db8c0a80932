import SeqboxFormat
import SeqboxStore

/// What a repair will change, derived from a verification before anything is touched
/// (so the backup can hold every file first).
struct RepairPlan {
    /// One change to a segment file.
    enum Edit: Equatable {
        /// Rewrite the header from the file name (base), the file size (capacity) and the
        /// stored creation time.
        case rewriteHeader
        /// Cover a damaged region with padding records.
        case pad(BadRegion)
        /// Zero bytes no record may occupy (a torn tail, stray bytes past an extent).
        case zero(BadRegion)
    }

    struct SegmentEdits {
        let base: LogPosition
        let name: String
        let size: Int
        let createdMs: UInt64
        var edits: [Edit] = []
    }

    var segmentEdits: [SegmentEdits] = []
    /// Missing log ranges to fill with a filler segment each.
    var fillers: [LogGap] = []
    /// Files of the log directory to delete (derived files, unusable segments, leftovers).
    var deletions: [String] = []
    var lost = LostRanges()
    var unrepairable: [String] = []
    /// One line per change, for the report and the journal.
    var actions: [String] = []

    /// True when no file changes (the store may still need opening to rebuild index files).
    var changesNoFile: Bool { segmentEdits.isEmpty && fillers.isEmpty && deletions.isEmpty }

    /// Files (names in the log directory) that exist now and will change or go.
    var filesToBackUp: [String] { segmentEdits.map(\.name) + deletions }

    init(_ verification: Verification) {
        unrepairable = verification.unrepairable
        lost = verification.lost
        var firstChange = UInt64.max
        for state in verification.segments {
            var edits = SegmentEdits(base: state.base, name: state.file.name, size: state.file.size, createdMs: state.file.storedCreatedMs)
            if state.file.headerProblem != nil {
                edits.edits.append(.rewriteHeader)
                actions.append("\(state.file.name): rewrite the segment header (base \(state.base), capacity \(state.file.size))")
            }
            for region in state.walk.corrupt {
                guard PaddingRecords.canCover(region.length) else {
                    unrepairable.append("\(state.file.name): a damaged region of \(region.length) bytes at \(region.start) cannot be covered by padding")
                    continue
                }
                edits.edits.append(.pad(region))
                firstChange = min(firstChange, state.base.rawValue + UInt64(region.start))
                actions.append("\(state.file.name): cover \(region.length) damaged bytes at offset \(region.start) with padding records")
            }
            if let trailing = state.walk.trailing, state.walk.overlappingRecords == 0 {
                edits.edits.append(.zero(trailing))
                actions.append("\(state.file.name): zero \(trailing.length) stray bytes at offset \(trailing.start)")
            }
            if let torn = state.walk.torn {
                let region = BadRegion(start: torn.offset, end: torn.end, problem: torn.problem)
                edits.edits.append(.zero(region))
                firstChange = min(firstChange, state.base.rawValue + UInt64(torn.offset))
                actions.append("\(state.file.name): zero the torn tail, \(region.length) bytes from offset \(torn.offset)")
            }
            if !edits.edits.isEmpty { segmentEdits.append(edits) }
            let changesRecords = edits.edits.contains { if case .rewriteHeader = $0 { false } else { true } }
            if changesRecords && !state.isActive && verification.files.indexes.contains(state.base) {
                addDeletion(FileNames.index(state.base), because: "its segment changes; the store rebuilds it")
            }
        }
        for base in verification.unusableSegments {
            addDeletion(FileNames.segment(base), because: "it holds nothing readable")
            firstChange = min(firstChange, base.rawValue)
        }
        for gap in verification.gaps {
            guard gap.length == FormatConstants.segmentHeaderSize || PaddingRecords.canCover(gap.length - FormatConstants.segmentHeaderSize) else {
                unrepairable.append("the missing log range \(gap.start)..<\(gap.end) (\(gap.length) bytes) cannot be filled by a segment")
                continue
            }
            fillers.append(gap)
            firstChange = min(firstChange, gap.start)
            actions.append("\(FileNames.segment(LogPosition(gap.start))): create a filler segment for the missing log bytes \(gap.start)..<\(gap.end)")
        }
        for base in verification.badIndexes.sorted() where verification.files.indexes.contains(base) {
            addDeletion(FileNames.index(base), because: "it is invalid, disagrees with its segment, or has no segment")
        }
        for position in verification.files.checkpoints {
            if verification.badCheckpoints.contains(position) {
                addDeletion(FileNames.checkpoint(position), because: "it is invalid or disagrees with the log")
            } else if position.rawValue > firstChange {
                addDeletion(FileNames.checkpoint(position), because: "it covers repaired log bytes")
            }
        }
        for name in verification.files.temporaries { addDeletion(name, because: "leftover of an interrupted write") }
        let keptCheckpoints = verification.validCheckpoints.filter { !deletions.contains(FileNames.checkpoint($0)) }
        if let oldest = verification.segments.first?.base, oldest.rawValue > 0, keptCheckpoints.isEmpty, !verification.validCheckpoints.isEmpty {
            warnings.append("retention removed the log before \(oldest): cursors and blocks recorded only there go with the deleted checkpoints")
        }
    }

    /// Consequences of the repair an operator should know about.
    var warnings: [String] = []

    private mutating func addDeletion(_ name: String, because reason: String) {
        guard !deletions.contains(name) else { return }
        deletions.append(name)
        actions.append("\(name): delete: \(reason)")
    }
}
