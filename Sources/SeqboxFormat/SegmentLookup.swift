/// Finding the segment that holds a log position. Segments are sorted by base position and
/// each starts where the previous one's records end, so it is the one with the greatest base
/// at or below the position (FORMAT.md "Segment files"). Shared by the store and the tools.
public enum SegmentLookup {
    /// The index of that segment among `count` segments whose bases `base(i)` ascend, or nil
    /// when the position lies before the first.
    @inlinable
    public static func index(holding position: UInt64, count: Int, base: (Int) -> UInt64) -> Int? {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if base(middle) <= position { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? low - 1 : nil
    }
}
