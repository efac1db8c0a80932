/// A log-linear histogram of durations in nanoseconds (HDR-like): values below 2^precisionBits
/// are exact, larger ones fall in 2^precisionBits buckets per power of two, so a quantile is
/// exact to within 1/2^precisionBits (under 1%). Recording is a few instructions and no
/// allocation; keep one per thread and merge.
struct LatencyHistogram: Sendable {
    static let precisionBits = 7
    static let subBuckets = 1 << precisionBits
    static let bucketCount = (64 - precisionBits + 1) * subBuckets

    private(set) var counts: [UInt64]
    private(set) var count: UInt64 = 0
    private(set) var maxValue: UInt64 = 0
    private(set) var sum: Double = 0

    init() { counts = [UInt64](repeating: 0, count: Self.bucketCount) }

    static func bucket(of value: UInt64) -> Int {
        if value < UInt64(subBuckets) { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount
        let mantissa = Int(value >> UInt64(exponent - precisionBits))
        return (exponent - precisionBits + 1) * subBuckets + (mantissa - subBuckets)
    }

    /// The largest value that falls in `bucket` (quantiles report this: conservative).
    static func highestValue(inBucket bucket: Int) -> UInt64 {
        if bucket < subBuckets { return UInt64(bucket) }
        let block = bucket >> precisionBits
        let exponent = block + precisionBits - 1
        let mantissa = UInt64(bucket & (subBuckets - 1) + subBuckets)
        let shift = UInt64(exponent - precisionBits)
        return (mantissa << shift) + (1 << shift) - 1
    }

    mutating func record(_ nanoseconds: UInt64) {
        counts[Self.bucket(of: nanoseconds)] &+= 1
        count &+= 1
        sum += Double(nanoseconds)
        if nanoseconds > maxValue { maxValue = nanoseconds }
    }

    mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices where other.counts[index] != 0 { counts[index] &+= other.counts[index] }
        count &+= other.count
        sum += other.sum
        maxValue = max(maxValue, other.maxValue)
    }

    /// The value at quantile `q` (0...1): the smallest bucket bound with at least q of the
    /// samples at or below it, capped at the exact maximum. 0 when empty.
    func quantile(_ q: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, bucketCount) in counts.enumerated() where bucketCount != 0 {
            seen += bucketCount
            if seen >= rank { return min(Self.highestValue(inBucket: index), maxValue) }
        }
        return maxValue
    }

    var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// p50/p90/p99/p999/max in microseconds, for reports.
    var summary: LatencySummary {
        LatencySummary(samples: Int(count), meanUs: mean / 1000, p50Us: Double(quantile(0.5)) / 1000,
                       p90Us: Double(quantile(0.9)) / 1000, p99Us: Double(quantile(0.99)) / 1000,
                       p999Us: Double(quantile(0.999)) / 1000, maxUs: Double(maxValue) / 1000)
    }
}

/// Quantiles of a latency histogram, in microseconds.
struct LatencySummary: Codable, Sendable {
    var samples: Int
    var meanUs: Double
    var p50Us: Double
    var p90Us: Double
    var p99Us: Double
    var p999Us: Double
    var maxUs: Double
}
