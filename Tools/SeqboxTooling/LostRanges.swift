import SeqboxFormat
import SeqboxStore

/// Seqs lost per mailbox, kept as sorted, disjoint, merged closed ranges.
public struct LostRanges: Sendable, Equatable {
    private var ranges: [UInt64: [ClosedRange<UInt32>]] = [:]

    public init() {}

    public var isEmpty: Bool { ranges.isEmpty }
    public var users: [UserID] { ranges.keys.sorted().map { UserID($0) } }

    public func ranges(of user: UserID) -> [ClosedRange<UInt32>] { ranges[user.rawValue] ?? [] }

    /// Every range, by user then seq.
    public var all: [RecoveryReport.LostRange] {
        users.flatMap { user in ranges(of: user).map { RecoveryReport.LostRange(user: user, first: Seq($0.lowerBound), last: Seq($0.upperBound)) } }
    }

    public var seqCount: UInt64 {
        ranges.values.reduce(0) { total, list in list.reduce(total) { $0 + UInt64($1.upperBound - $1.lowerBound) + 1 } }
    }

    public mutating func add(_ user: UserID, _ range: ClosedRange<UInt32>) {
        var list = ranges[user.rawValue] ?? []
        list.append(range)
        list.sort { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = []
        for next in list {
            if let last = merged.last, UInt64(next.lowerBound) <= UInt64(last.upperBound) + 1 {
                merged[merged.count - 1] = last.lowerBound ... max(last.upperBound, next.upperBound)
            } else {
                merged.append(next)
            }
        }
        ranges[user.rawValue] = merged
    }

    public mutating func add(_ other: LostRanges) {
        for (user, list) in other.ranges { for range in list { add(UserID(user), range) } }
    }

    /// Removes every seq that `other` holds (ranges an epoch change already acknowledged).
    public mutating func subtract(_ other: LostRanges) {
        for (user, removals) in other.ranges {
            guard var list = ranges[user] else { continue }
            for removal in removals {
                var kept: [ClosedRange<UInt32>] = []
                for range in list {
                    if range.upperBound < removal.lowerBound || range.lowerBound > removal.upperBound {
                        kept.append(range)
                        continue
                    }
                    if range.lowerBound < removal.lowerBound { kept.append(range.lowerBound ... removal.lowerBound - 1) }
                    if range.upperBound > removal.upperBound { kept.append(removal.upperBound + 1 ... range.upperBound) }
                }
                list = kept
            }
            ranges[user] = list.isEmpty ? nil : list
        }
    }

    /// The highest lost seq of `user`, 0 if none.
    public func highest(_ user: UserID) -> UInt32 { ranges[user.rawValue]?.last?.upperBound ?? 0 }
}
