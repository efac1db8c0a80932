import SeqboxFormat

/// Counts over the whole log, for the summaries of fsck and dump.
public struct LogTotals: Sendable, Equatable {
    public var segments = 0
    public var records = 0
    /// Records per type, indexed by the type's raw value.
    private var typeCounts = [Int](repeating: 0, count: 8)
    public var messages = 0
    public var users = 0
    /// Bytes of the log: the sum of the segments' extents (headers included).
    public var logBytes: Int64 = 0
    /// Message payloads as stored (after compression) and as sent.
    public var storedPayloadBytes: Int64 = 0
    public var rawPayloadBytes: Int64 = 0
    public var paddingBytes: Int64 = 0

    public init() {}

    public var recordsByType: [RecordType: Int] {
        var counts: [RecordType: Int] = [:]
        for type in RecordType.allCases where typeCounts[Int(type.rawValue)] > 0 { counts[type] = typeCounts[Int(type.rawValue)] }
        return counts
    }

    @inline(__always)
    mutating func count(_ type: RecordType) {
        records += 1
        typeCounts[Int(type.rawValue) & 7] += 1
    }

    /// Raw payload bytes per stored payload byte (1.0 when nothing compressed).
    public var compressionRatio: Double {
        storedPayloadBytes > 0 ? Double(rawPayloadBytes) / Double(storedPayloadBytes) : 1
    }
}
