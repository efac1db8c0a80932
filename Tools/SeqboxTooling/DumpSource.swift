import SeqboxFormat
import SeqboxStore
import SeqboxSystem

/// The segments dump reads: listed once, each opened read-only and mapped at its size at that
/// moment, never locked and never written. On a store a server has open this is a consistent
/// view of the log up to the last complete record of the active segment: sealed segments do
/// not change, records are appended in order and each verifies by its checksum, so a record
/// being written shows as an incomplete tail and anything appended later is simply not shown.
/// A segment deleted by retention between the listing and its opening is skipped with a note.
struct DumpSource {
    let files: StoreFiles
    let segments: [SegmentFile]
    /// Segments that vanished while dump ran.
    let vanished: [String]
    /// The newest valid checkpoint's position: the log before it is durable.
    let durablePosition: UInt64

    static func open(directory: String, fileSystem: any FileSystem) throws(UnusableInput) -> DumpSource {
        let files = try StoreFiles.load(directory: directory, fileSystem: fileSystem)
        var segments: [SegmentFile] = []
        var vanished: [String] = []
        for base in files.segments {
            let path = files.segmentPath(base)
            do {
                segments.append(try SegmentFile.open(path: path, base: base, fileSystem: fileSystem))
            } catch {
                guard fileSystem.exists(path) else {
                    vanished.append(FileNames.segment(base))
                    continue
                }
                throw error
            }
        }
        let durable = files.checkpoints.reversed().lazy.compactMap { position -> UInt64? in
            guard case .success = CheckpointImage.load(files, position: position, fileSystem: fileSystem) else { return nil }
            return position.rawValue
        }.first ?? 0
        return DumpSource(files: files, segments: segments, vanished: vanished, durablePosition: durable)
    }

    /// Walks segment `position` with `visitor`, the way fsck does (sealed segments against the
    /// chain, the last one as the active segment, damage before the newest checkpoint as
    /// corruption rather than a torn tail).
    func walk<Visitor: RecordVisitor>(_ position: Int, visitor: inout Visitor) -> SegmentWalk {
        let file = segments[position]
        let walker = SegmentWalker(bytes: file.bytes, base: file.base)
        guard file.size >= FormatConstants.segmentHeaderSize else { return SegmentWalk() }
        if position == segments.count - 1 {
            let durableEnd = durablePosition > file.base.rawValue ? Int(clamping: durablePosition - file.base.rawValue) : 0
            return walker.walkActive(durableEnd: durableEnd, visitor: &visitor)
        }
        let next = segments[position + 1].base
        let expectedEnd = next > file.base ? Int(clamping: next.rawValue - file.base.rawValue) : nil
        return walker.walkSealed(expectedEnd: expectedEnd, visitor: &visitor)
    }

    /// The newest checkpoint that verifies, decoded with `mailbox` (for cursors the log lost
    /// to retention).
    func newestCheckpoint(fileSystem: any FileSystem, mailbox: (CheckpointCodec.MailboxView) -> Void) {
        for position in files.checkpoints.reversed() {
            guard case .success(let image) = CheckpointImage.load(files, position: position, fileSystem: fileSystem) else { continue }
            image.bytes.withUnsafeBytes { raw in
                try? CheckpointCodec.decode(raw, mailbox: { mailbox($0) }, dedup: { _ in })
            }
            return
        }
    }
}

/// Counts records and ignores everything else.
struct CountingVisitor: RecordVisitor {
    mutating func visit(offset: Int, header: RecordHeader) {}
    mutating func damaged(_ region: BadRegion) {}
}
