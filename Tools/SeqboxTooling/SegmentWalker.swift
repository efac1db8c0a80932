import SeqboxFormat
import SeqboxStore

/// A stretch of a segment that holds no valid record: [start, end) in file offsets.
struct BadRegion: Equatable {
    var start: Int
    var end: Int
    var problem: String
    var length: Int { end - start }
}

/// The torn end of the last (active) segment: what recovery zeroes when the store opens.
struct TornTail: Equatable {
    var offset: Int
    /// End of the nonzero bytes from `offset` on.
    var end: Int
    var problem: String
    /// Complete, valid records found after the tear: recovery drops them with the tail.
    var recordsAfter: [RecordHeader]
}

/// Receives each valid record of a segment, in order.
protocol RecordVisitor {
    mutating func visit(offset: Int, header: RecordHeader)
    /// A damaged region of a sealed segment, reported before the records after it.
    mutating func damaged(_ region: BadRegion)
}

/// What walking one segment found.
struct SegmentWalk {
    var records = 0
    /// The segment's extent in the log: the end of its last record or damaged region.
    var dataEnd = FormatConstants.segmentHeaderSize
    /// Damaged regions inside the extent of a sealed segment: the records there are lost.
    var corrupt: [BadRegion] = []
    /// Nonzero bytes beyond a sealed segment's extent holding no valid record (safe to zero).
    var trailing: BadRegion?
    /// Valid records beyond a sealed segment's extent (the next segment starts earlier).
    var overlappingRecords = 0
    /// The active segment's torn tail.
    var torn: TornTail?
}

/// Walks one segment with the store's `SegmentScanner`, telling torn tails from corruption the
/// way recovery does (FORMAT.md "Recovery"): in the active (last) segment the first record
/// that does not verify is a torn tail and everything after it goes; in a sealed segment a
/// damaged region is skipped to the next valid record and its records are lost. A sealed
/// segment's extent is known from the chain (the next segment's base), so zeroed bytes inside
/// it are found too, and bytes beyond it are checked for stray data.
struct SegmentWalker {
    let bytes: UnsafeRawBufferPointer
    let base: LogPosition

    /// Walks a sealed segment whose extent, by the chain, is `expectedEnd` (nil: unknown).
    func walkSealed<Visitor: RecordVisitor>(expectedEnd: Int?, visitor: inout Visitor) -> SegmentWalk {
        var walk = SegmentWalk()
        let headerSize = FormatConstants.segmentHeaderSize
        let limit = max(headerSize, min(expectedEnd ?? bytes.count, bytes.count))
        guard bytes.count >= headerSize else { return walk }
        let window = UnsafeRawBufferPointer(rebasing: bytes[0 ..< limit])
        var start: Int? = headerSize
        while let from = start {
            start = nil
            var scanner = SegmentScanner(bytes: window, base: base, start: from, limit: limit)
            while let event = scanner.next() {
                switch event {
                case .record(let offset, let header):
                    visitor.visit(offset: offset, header: header)
                    walk.records += 1
                    walk.dataEnd = offset + header.recordSize
                case .invalid(let offset, let problem, let resumeAt):
                    let end = resumeAt ?? max(Self.nonzeroEnd(window, from: offset), offset + FormatConstants.recordAlignment)
                    addCorrupt(BadRegion(start: offset, end: min(end, limit), problem: problem.rawValue), to: &walk, visitor: &visitor)
                    walk.dataEnd = min(end, limit)
                case .end(let offset):
                    // A zero header inside the data (a zeroed page) is not the end if valid
                    // records follow it.
                    let nonzero = Self.nonzeroEnd(window, from: offset)
                    guard nonzero > offset else { break }
                    if let next = SegmentScanner.findNextRecord(in: window, after: offset, base: base) {
                        addCorrupt(BadRegion(start: offset, end: next, problem: "zeroed"), to: &walk, visitor: &visitor)
                        start = next
                    } else {
                        addCorrupt(BadRegion(start: offset, end: nonzero, problem: "unreadable bytes after a zero header"), to: &walk, visitor: &visitor)
                        walk.dataEnd = nonzero
                    }
                }
            }
        }
        if let expectedEnd, expectedEnd <= bytes.count {
            if walk.dataEnd < expectedEnd {
                // The next segment starts further on: the records between were zeroed.
                addCorrupt(BadRegion(start: walk.dataEnd, end: expectedEnd, problem: "zeroed"), to: &walk, visitor: &visitor)
                walk.dataEnd = expectedEnd
            }
            checkBeyond(expectedEnd, walk: &walk)
        }
        return walk
    }

    /// Records a damaged region (merged with an adjacent one) and tells the visitor.
    private func addCorrupt<Visitor: RecordVisitor>(_ region: BadRegion, to walk: inout SegmentWalk, visitor: inout Visitor) {
        visitor.damaged(region)
        if let last = walk.corrupt.indices.last, walk.corrupt[last].end == region.start {
            walk.corrupt[last].end = region.end
        } else {
            walk.corrupt.append(region)
        }
    }

    /// Nonzero bytes past a sealed segment's extent: stray data, or records that overlap the
    /// next segment.
    private func checkBeyond(_ extent: Int, walk: inout SegmentWalk) {
        let nonzero = Self.nonzeroEnd(bytes, from: extent)
        guard nonzero > extent else { return }
        walk.trailing = BadRegion(start: extent, end: nonzero, problem: "nonzero bytes beyond the segment's extent")
        var cursor = SegmentScanner.findNextRecord(in: bytes, after: extent - FormatConstants.recordAlignment, base: base)
        var count = 0
        while let offset = cursor, count < Self.recordsAfterMax, case .record(let header) = RecordCodec.decode(bytes, at: offset, segmentBase: base) {
            count += 1
            cursor = SegmentScanner.findNextRecord(in: bytes, after: offset + header.recordSize - FormatConstants.recordAlignment, base: base)
        }
        walk.overlappingRecords = count
    }

    /// Walks the active (last) segment the way recovery replays it (FORMAT.md "Recovery"):
    /// damage a crash can explain, in the last unsynced batch, is a torn tail and ends the
    /// segment; damage a crash cannot explain is corruption, skipped like in a sealed segment.
    /// Damaged bytes were synced, so are corruption, when they lie before `durableEnd` (a
    /// checkpoint was written after them, and the store syncs first) or when a valid record
    /// flagged as a batch start follows them (in `sync` mode a batch is written only once the
    /// previous one is synced).
    func walkActive<Visitor: RecordVisitor>(durableEnd: Int = 0, visitor: inout Visitor) -> SegmentWalk {
        var walk = SegmentWalk()
        guard bytes.count >= FormatConstants.segmentHeaderSize else { return walk }
        var scanner = SegmentScanner(bytes: bytes, base: base)
        scan: while let event = scanner.next() {
            switch event {
            case .record(let offset, let header):
                visitor.visit(offset: offset, header: header)
                walk.records += 1
                walk.dataEnd = offset + header.recordSize
            case .invalid(let offset, let problem, let resumeAt):
                let later = recordsFrom(resumeAt)
                let end = resumeAt ?? max(Self.nonzeroEnd(bytes, from: offset), offset + FormatConstants.recordAlignment)
                if wasSynced(offset, durableEnd: durableEnd, later: later) {
                    addCorrupt(BadRegion(start: offset, end: end, problem: problem.rawValue), to: &walk, visitor: &visitor)
                    walk.dataEnd = end
                    continue scan  // the scanner resumes at `resumeAt`, or has finished
                }
                walk.torn = TornTail(offset: offset, end: max(Self.nonzeroEnd(bytes, from: offset), offset + FormatConstants.recordAlignment),
                                     problem: problem.rawValue, recordsAfter: later)
                break scan
            case .end(let offset):
                let nonzero = Self.nonzeroEnd(bytes, from: offset)
                guard nonzero > offset else { break scan }
                let resumeAt = SegmentScanner.findNextRecord(in: bytes, after: offset, base: base)
                let later = recordsFrom(resumeAt)
                if let resumeAt, wasSynced(offset, durableEnd: durableEnd, later: later) {
                    addCorrupt(BadRegion(start: offset, end: resumeAt, problem: "zeros before later records"), to: &walk, visitor: &visitor)
                    scanner = SegmentScanner(bytes: bytes, base: base, start: resumeAt)
                    continue scan
                }
                walk.torn = TornTail(offset: offset, end: nonzero, problem: later.isEmpty ? "bytes after the end of data" : "zeros before later records",
                                     recordsAfter: later)
                break scan
            }
        }
        return walk
    }

    /// True when damage at `offset` of the active segment must have been synced already.
    private func wasSynced(_ offset: Int, durableEnd: Int, later: [RecordHeader]) -> Bool {
        offset < durableEnd || later.contains { $0.flags & FormatConstants.flagBatchStart != 0 }
    }

    /// Most records listed after a tear or beyond an extent (they are counted up to here).
    static let recordsAfterMax = 10_000

    /// The valid records from `offset` on, chained as recovery counts them.
    private func recordsFrom(_ offset: Int?) -> [RecordHeader] {
        var found: [RecordHeader] = []
        var cursor = offset
        while let next = cursor, found.count < Self.recordsAfterMax,
              case .record(let header) = RecordCodec.decode(bytes, at: next, segmentBase: base) {
            found.append(header)
            cursor = SegmentScanner.findNextRecord(in: bytes, after: next + header.recordSize - FormatConstants.recordAlignment, base: base)
        }
        return found
    }

    /// The offset just past the last nonzero byte of `bytes[from...]`, rounded up to the record
    /// alignment (but not past the end), or `from` when all of it is zero.
    static func nonzeroEnd(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int {
        guard from < bytes.count else { return from }
        var end = bytes.count
        while end > from && end % FormatConstants.recordAlignment != 0 {
            if bytes[end - 1] != 0 { return end }
            end -= 1
        }
        while end - FormatConstants.recordAlignment >= from {
            if bytes.loadUnaligned(fromByteOffset: end - FormatConstants.recordAlignment, as: UInt64.self) != 0 { return end }
            end -= FormatConstants.recordAlignment
        }
        while end > from {
            if bytes[end - 1] != 0 { return min(FormatConstants.alignUp(end, to: FormatConstants.recordAlignment), bytes.count) }
            end -= 1
        }
        return from
    }
}
