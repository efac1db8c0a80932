/// The kinds of problem fsck reports; the raw values are stable names for `--json` and scripts.
public enum ProblemKind: String, CaseIterable, Sendable, Comparable {
    /// A segment header that does not verify or disagrees with its file name.
    case segmentHeader = "segment-header"
    /// The active segment ends in an interrupted write (recovery would zero it).
    case tornTail = "torn-tail"
    /// Bytes inside a sealed segment's records that do not verify: the records there are lost.
    case corruptRecord = "corrupt-record"
    /// Log bytes between two segments that no file holds.
    case missingSegment = "missing-segment"
    /// A segment whose records run past the start of the next one.
    case segmentOverlap = "segment-overlap"
    /// Nonzero bytes past a sealed segment's extent.
    case trailingData = "trailing-data"
    /// A mailbox's seqs are missing (invariant 1): listed as lost ranges.
    case seqGap = "seq-gap"
    /// A message whose seq repeats or goes back (or jumps absurdly).
    case seqOrder = "seq-order"
    /// A checkpoint knows newer seqs of a mailbox than the log holds (lost at its end).
    case lostTail = "lost-tail"
    case indexMissing = "index-missing"
    case indexInvalid = "index-invalid"
    /// An index file that verifies but disagrees with its segment.
    case indexMismatch = "index-mismatch"
    case checkpointInvalid = "checkpoint-invalid"
    /// A checkpoint that verifies but disagrees with the log.
    case checkpointMismatch = "checkpoint-mismatch"
    /// A device cursor beyond what its mailbox ever held.
    case cursor = "cursor"
    /// A repair that stopped before it finished (its backup folder is still marked incomplete).
    case incompleteRepair = "incomplete-repair"

    public static func < (lhs: ProblemKind, rhs: ProblemKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One problem found: its kind, where (a file of the log directory and an offset in it, when
/// it has one), and what.
public struct Problem: Sendable, Equatable, CustomStringConvertible {
    public var kind: ProblemKind
    public var file: String?
    public var offset: Int?
    public var detail: String

    public init(_ kind: ProblemKind, file: String? = nil, offset: Int? = nil, _ detail: String) {
        self.kind = kind
        self.file = file
        self.offset = offset
        self.detail = detail
    }

    public var description: String {
        var location = ""
        if let file { location = file + (offset.map { " @\($0)" } ?? "") + ": " }
        return "[\(kind.rawValue)] \(location)\(detail)"
    }
}

/// The problems of one run: every one counted by kind, the first `listedPerKindMax` of each
/// kind kept, so a badly damaged store does not produce an unbounded report.
public struct ProblemList: Sendable {
    public static let listedPerKindMax = 1000
    public private(set) var listed: [Problem] = []
    public private(set) var counts: [ProblemKind: Int] = [:]

    public init() {}

    mutating func add(_ problem: Problem) {
        let count = counts[problem.kind, default: 0]
        counts[problem.kind] = count + 1
        if count < Self.listedPerKindMax { listed.append(problem) }
    }

    /// Adds every problem of `other` (its unlisted ones counted).
    mutating func merge(_ other: ProblemList) {
        for problem in other.listed { add(problem) }
        for (kind, count) in other.counts {
            let listedCount = other.listed.lazy.filter { $0.kind == kind }.count
            counts[kind, default: 0] += count - listedCount
        }
    }

    public var total: Int { counts.values.reduce(0, +) }
    public var isEmpty: Bool { counts.isEmpty }
    public func count(_ kind: ProblemKind) -> Int { counts[kind, default: 0] }
}
