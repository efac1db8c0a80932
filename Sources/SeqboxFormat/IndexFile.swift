/// One record's entry in a sealed segment's index file (FORMAT.md "Index files").
public struct IndexEntry: Equatable, Sendable {
    public var offset: UInt32
    public var seq: Seq
    public var user: UserID
    public var type: RecordType
    public var flags: UInt8
    public var storedLength: UInt32
    /// For messages: the record's idempotency key hash (see FORMAT.md "Idempotency"); else 0.
    public var keyHash: UInt64

    public init(offset: UInt32, seq: Seq, user: UserID, type: RecordType, flags: UInt8, storedLength: UInt32, keyHash: UInt64 = 0) {
        self.keyHash = keyHash
        self.offset = offset
        self.seq = seq
        self.user = user
        self.type = type
        self.flags = flags
        self.storedLength = storedLength
    }
}

/// A sealed segment's index: every record's (offset, user, seq, type) in log order. Derived
/// data: rebuilt from the segment when missing or failing its checksum, never trusted over it.
public struct IndexFile: Equatable, Sendable {
    public var basePosition: LogPosition
    /// Bytes of the segment (from offset 0) that the index covers: the end of its last record.
    public var segmentLength: UInt64
    public var entries: [IndexEntry]

    public init(basePosition: LogPosition, segmentLength: UInt64, entries: [IndexEntry]) {
        self.basePosition = basePosition
        self.segmentLength = segmentLength
        self.entries = entries
    }

    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case truncated, badMagic, unsupportedVersion(UInt16), badChecksum, badEntry(Int)
        public var description: String {
            switch self {
            case .truncated: "index file truncated"
            case .badMagic: "not a Seqbox index file (bad magic)"
            case .unsupportedVersion(let version): "unsupported index version \(version)"
            case .badChecksum: "index checksum mismatch"
            case .badEntry(let index): "index entry \(index) is invalid"
            }
        }
    }

    /// What opening a store needs from a sealed segment's index without decoding every entry:
    /// the verified header and the last entry.
    public struct Summary: Equatable, Sendable {
        public var basePosition: LogPosition
        public var segmentLength: UInt64
        public var entryCount: Int
        public var lastEntry: IndexEntry?
    }

    /// Verifies magic, version, size and checksum, and returns the header and last entry.
    public static func summarize(_ bytes: UnsafeRawBufferPointer) throws(Problem) -> Summary {
        var summary = try verifiedHeader(bytes)
        if summary.entryCount > 0 { summary.lastEntry = try entry(summary.entryCount - 1, in: bytes) }
        return summary
    }

    /// Checks magic, version, checksum and the entry count against the size; the summary it
    /// returns has no last entry yet.
    private static func verifiedHeader(_ bytes: UnsafeRawBufferPointer) throws(Problem) -> Summary {
        guard bytes.count >= FormatConstants.indexHeaderSize + FormatConstants.indexTrailerSize else { throw .truncated }
        guard bytes.loadLE(at: 0, as: UInt64.self) == FormatConstants.indexMagic else { throw .badMagic }
        let version = bytes.loadLE(at: 8, as: UInt16.self)
        guard version == FormatConstants.formatVersion else { throw .unsupportedVersion(version) }
        let bodyEnd = bytes.count - FormatConstants.indexTrailerSize
        guard Checksum.xxh3(UnsafeRawBufferPointer(rebasing: bytes[0 ..< bodyEnd])) == bytes.loadLE(at: bodyEnd, as: UInt64.self) else {
            throw .badChecksum
        }
        let count = Int(bytes.loadLE(at: 12, as: UInt32.self))
        guard count * FormatConstants.indexEntrySize == bodyEnd - FormatConstants.indexHeaderSize else { throw .truncated }
        return Summary(basePosition: LogPosition(bytes.loadLE(at: 16, as: UInt64.self)),
                       segmentLength: bytes.loadLE(at: 24, as: UInt64.self), entryCount: count, lastEntry: nil)
    }

    /// Entry `index` of a verified index file's bytes.
    public static func entry(_ index: Int, in bytes: UnsafeRawBufferPointer) throws(Problem) -> IndexEntry {
        let offset = FormatConstants.indexHeaderSize + index * FormatConstants.indexEntrySize
        guard index >= 0, offset + FormatConstants.indexEntrySize <= bytes.count - FormatConstants.indexTrailerSize else { throw .truncated }
        guard let type = RecordType(rawValue: bytes.loadLE(at: offset + 16, as: UInt8.self)) else { throw .badEntry(index) }
        return IndexEntry(offset: bytes.loadLE(at: offset, as: UInt32.self), seq: Seq(bytes.loadLE(at: offset + 4, as: UInt32.self)),
                          user: UserID(bytes.loadLE(at: offset + 8, as: UInt64.self)), type: type,
                          flags: bytes.loadLE(at: offset + 17, as: UInt8.self),
                          storedLength: bytes.loadLE(at: offset + 20, as: UInt32.self),
                          keyHash: bytes.loadLE(at: offset + 24, as: UInt64.self))
    }

    public func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: FormatConstants.indexHeaderSize + entries.count * FormatConstants.indexEntrySize + 8)
        writer.append(FormatConstants.indexMagic)
        writer.append(FormatConstants.formatVersion)
        writer.append(UInt16(0))
        writer.append(UInt32(entries.count))
        writer.append(basePosition.rawValue)
        writer.append(segmentLength)
        for entry in entries {
            writer.append(entry.offset)
            writer.append(entry.seq.rawValue)
            writer.append(entry.user.rawValue)
            writer.append(entry.type.rawValue)
            writer.append(entry.flags)
            writer.append(UInt16(0))
            writer.append(entry.storedLength)
            writer.append(entry.keyHash)
        }
        writer.appendChecksumTrailer()
        return writer.bytes
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(Problem) -> IndexFile {
        let header = try verifiedHeader(bytes)
        var entries: [IndexEntry] = []
        entries.reserveCapacity(header.entryCount)
        for index in 0 ..< header.entryCount { entries.append(try entry(index, in: bytes)) }
        return IndexFile(basePosition: header.basePosition, segmentLength: header.segmentLength, entries: entries)
    }
}
