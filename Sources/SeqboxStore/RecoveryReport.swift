import SeqboxFormat

/// What opening a store found and did: a value the server logs and fsck prints
/// (recovery never hides a loss).
public struct RecoveryReport: Sendable, Equatable, CustomStringConvertible {
    /// A range of a mailbox's seqs that could not be recovered.
    public struct LostRange: Sendable, Equatable, Hashable, CustomStringConvertible {
        public var user: UserID
        public var first: Seq
        public var last: Seq
        public init(user: UserID, first: Seq, last: Seq) {
            self.user = user
            self.first = first
            self.last = last
        }
        public var description: String { first == last ? "user \(user) seq \(first)" : "user \(user) seqs \(first)-\(last)" }
    }

    /// Bytes that failed to decode inside a segment.
    public struct Corruption: Sendable, Equatable, CustomStringConvertible {
        public var segment: LogPosition
        public var offset: Int
        public var problem: String
        /// Bytes skipped before the next valid record (or to the end of the segment's data).
        public var bytesSkipped: Int
        public var description: String { "segment \(segment) offset \(offset): \(problem) (\(bytesSkipped) bytes skipped)" }
    }

    /// The torn end of the active segment: an interrupted write, truncated away.
    public struct TornTail: Sendable, Equatable, CustomStringConvertible {
        public var segment: LogPosition
        public var offset: Int
        public var bytesDropped: Int
        public var problem: String
        /// Valid-looking records found after the tear (unacknowledged writes; dropped too).
        public var recordsDroppedAfter: Int
        public var description: String {
            "torn tail in segment \(segment) at offset \(offset): \(problem), \(bytesDropped) bytes dropped" +
                (recordsDroppedAfter > 0 ? ", \(recordsDroppedAfter) later records dropped" : "")
        }
    }

    public var checkpointUsed: LogPosition?
    public var checkpointProblems: [String] = []
    public var segmentsFound: Int = 0
    public var segmentsReplayed: Int = 0
    public var recordsReplayed: Int = 0
    public var bytesReplayed: Int64 = 0
    public var indexFilesRebuilt: [LogPosition] = []
    public var tornTail: TornTail?
    public var corruptions: [Corruption] = []
    public var missingSegments: [String] = []
    public var lostRanges: [LostRange] = []
    public var durationMs: Double = 0

    public init() {}

    /// True when nothing was lost or damaged (a torn tail is a normal crash artefact).
    public var isClean: Bool { corruptions.isEmpty && lostRanges.isEmpty && missingSegments.isEmpty }
    /// True when opening must consult the corruption policy.
    public var hasLoss: Bool { !isClean }

    public var summary: String {
        var parts: [String] = []
        if let tornTail { parts.append(tornTail.description) }
        parts += corruptions.map(\.description)
        parts += missingSegments.map { "missing segment: \($0)" }
        if !lostRanges.isEmpty { parts.append("lost: " + lostRanges.map(\.description).joined(separator: ", ")) }
        parts += checkpointProblems
        return parts.isEmpty ? "clean" : parts.joined(separator: "; ")
    }

    public var description: String {
        "recovery: checkpoint \(checkpointUsed.map { "at \($0)" } ?? "none"), \(segmentsFound) segments, " +
            "\(recordsReplayed) records replayed from \(segmentsReplayed) segments in \(Int(durationMs)) ms; \(summary)"
    }
}
