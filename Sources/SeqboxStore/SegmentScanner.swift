import SeqboxFormat

/// What the scanner found at one point of a segment.
public enum ScanEvent: Sendable, Equatable {
    /// A valid record (checksum verified) at `offset`.
    case record(offset: Int, header: RecordHeader)
    /// Bytes at `offset` are not a valid record. `resumeAt` is the offset of the next valid
    /// record found by searching forward at record alignment, or nil if none follows.
    case invalid(offset: Int, problem: RecordProblem, resumeAt: Int?)
    /// The clean end of data at `offset`: an all-zero header, or the end of the scanned range.
    case end(offset: Int)
}

/// Walks the records of one segment's bytes, verifying each checksum: the single reader of the
/// log, shared by recovery, reads, fsck and dump. It reports; callers decide the policy
/// (recovery truncates a torn tail, refuses or skips corruption; fsck prints).
public struct SegmentScanner {
    public let bytes: UnsafeRawBufferPointer
    public let base: LogPosition
    private var offset: Int
    private let limit: Int
    private var finished = false

    /// Scans `bytes` (a whole segment: header included) from `start` up to `limit` (default: all).
    public init(bytes: UnsafeRawBufferPointer, base: LogPosition, start: Int = FormatConstants.segmentHeaderSize, limit: Int? = nil) {
        self.bytes = bytes
        self.base = base
        self.offset = start
        self.limit = min(limit ?? bytes.count, bytes.count)
    }

    public mutating func next() -> ScanEvent? {
        guard !finished else { return nil }
        if offset >= limit {
            finished = true
            return .end(offset: offset)
        }
        let window = UnsafeRawBufferPointer(rebasing: bytes[0 ..< limit])
        switch RecordCodec.decode(window, at: offset, segmentBase: base) {
        case .record(let header):
            let at = offset
            offset += header.recordSize
            return .record(offset: at, header: header)
        case .endOfData:
            finished = true
            return .end(offset: offset)
        case .invalid(let problem):
            let at = offset
            let resume = Self.findNextRecord(in: window, after: at, base: base)
            if let resume { offset = resume } else { finished = true }
            return .invalid(offset: at, problem: problem, resumeAt: resume)
        }
    }

    /// Searches forward at record alignment for the next offset holding a valid record.
    public static func findNextRecord(in bytes: UnsafeRawBufferPointer, after offset: Int, base: LogPosition) -> Int? {
        var candidate = offset + FormatConstants.recordAlignment
        while candidate + FormatConstants.recordHeaderSize <= bytes.count {
            // Cheap pre-checks before the checksum: a known type byte and zero reserved bits.
            let typeByte = bytes[candidate + 12]
            if typeByte != 0, RecordType(rawValue: typeByte) != nil, bytes[candidate + 14] == 0, bytes[candidate + 15] == 0,
               case .record = RecordCodec.decode(bytes, at: candidate, segmentBase: base) {
                return candidate
            }
            candidate += FormatConstants.recordAlignment
        }
        return nil
    }

    /// The offset just past the last nonzero byte in `bytes[from...]`, rounded up to the
    /// record alignment (within the buffer), or `from` if all zero.
    public static func endOfNonzero(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int {
        let end = lastNonzeroEnd(bytes, from: from)
        return end == from ? from : min(FormatConstants.alignUp(end, to: FormatConstants.recordAlignment), bytes.count)
    }

    static func lastNonzeroEnd(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int {
        var end = bytes.count
        // Trailing bytes past the last whole word (a file cut inside a word).
        while end > from && end % 8 != 0 {
            if bytes[end - 1] != 0 { return end }
            end -= 1
        }
        while end - 8 >= from {
            if bytes.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self) != 0 {
                while bytes[end - 1] == 0 { end -= 1 }
                return end
            }
            end -= 8
        }
        while end > from {
            if bytes[end - 1] != 0 { return end }
            end -= 1
        }
        return from
    }
}
