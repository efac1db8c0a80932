/// The 64-byte header at the start of every segment file (FORMAT.md "Segment files").
public struct SegmentHeader: Equatable, Sendable {
    public var basePosition: LogPosition
    public var createdMs: UInt64
    public var capacity: UInt64
    public var version: UInt16

    public init(basePosition: LogPosition, createdMs: UInt64, capacity: UInt64, version: UInt16 = FormatConstants.formatVersion) {
        self.basePosition = basePosition
        self.createdMs = createdMs
        self.capacity = capacity
        self.version = version
    }

    /// Why a segment header is unusable.
    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case tooShort
        case badMagic
        case unsupportedVersion(UInt16)
        case badChecksum
        case badHeaderSize(UInt16)

        public var description: String {
            switch self {
            case .tooShort: "shorter than a segment header"
            case .badMagic: "not a Seqbox segment (bad magic)"
            case .unsupportedVersion(let version): "unsupported format version \(version)"
            case .badChecksum: "segment header checksum mismatch"
            case .badHeaderSize(let size): "unexpected segment header size \(size)"
            }
        }
    }

    public func encode() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: FormatConstants.segmentHeaderSize)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeLE(FormatConstants.segmentMagic, at: 0)
            raw.storeLE(version, at: 8)
            raw.storeLE(UInt16(FormatConstants.segmentHeaderSize), at: 10)
            raw.storeLE(basePosition.rawValue, at: 16)
            raw.storeLE(createdMs, at: 24)
            raw.storeLE(capacity, at: 32)
            let covered = UnsafeRawBufferPointer(rebasing: raw[0 ..< FormatConstants.segmentHeaderChecksumOffset])
            raw.storeLE(Checksum.xxh3(covered), at: FormatConstants.segmentHeaderChecksumOffset)
        }
        return bytes
    }

    /// Decodes and verifies a segment header. Magic first (is it ours?), then version (can we
    /// read it?), then the checksum (is it intact?).
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(Problem) -> SegmentHeader {
        guard bytes.count >= FormatConstants.segmentHeaderSize else { throw .tooShort }
        guard bytes.loadLE(at: 0, as: UInt64.self) == FormatConstants.segmentMagic else { throw .badMagic }
        let version = bytes.loadLE(at: 8, as: UInt16.self)
        let covered = UnsafeRawBufferPointer(rebasing: bytes[0 ..< FormatConstants.segmentHeaderChecksumOffset])
        let checksumOK = Checksum.xxh3(covered) == bytes.loadLE(at: FormatConstants.segmentHeaderChecksumOffset, as: UInt64.self)
        guard version == FormatConstants.formatVersion else {
            // A different version may lay its header out differently: only trust the version
            // field when the checksum as we know it agrees, otherwise call it corrupt.
            throw checksumOK || version > FormatConstants.formatVersion ? .unsupportedVersion(version) : .badChecksum
        }
        guard checksumOK else { throw .badChecksum }
        let headerSize = bytes.loadLE(at: 10, as: UInt16.self)
        guard Int(headerSize) == FormatConstants.segmentHeaderSize else { throw .badHeaderSize(headerSize) }
        return SegmentHeader(
            basePosition: LogPosition(bytes.loadLE(at: 16, as: UInt64.self)),
            createdMs: bytes.loadLE(at: 24, as: UInt64.self),
            capacity: bytes.loadLE(at: 32, as: UInt64.self),
            version: version)
    }
}

/// File names of the store directory (FORMAT.md "Directory layout").
public enum FileNames {
    public static func segment(_ base: LogPosition) -> String { padded(base.rawValue) + FormatConstants.segmentFileSuffix }
    public static func index(_ base: LogPosition) -> String { padded(base.rawValue) + FormatConstants.indexFileSuffix }
    public static func checkpoint(_ position: LogPosition) -> String {
        FormatConstants.checkpointFilePrefix + padded(position.rawValue) + FormatConstants.checkpointFileSuffix
    }

    /// The base position of a segment file name, or nil if it is not one.
    public static func segmentBase(_ name: String) -> LogPosition? { number(name, prefix: "", suffix: FormatConstants.segmentFileSuffix) }
    public static func indexBase(_ name: String) -> LogPosition? { number(name, prefix: "", suffix: FormatConstants.indexFileSuffix) }
    public static func checkpointPosition(_ name: String) -> LogPosition? {
        number(name, prefix: FormatConstants.checkpointFilePrefix, suffix: FormatConstants.checkpointFileSuffix)
    }

    static func padded(_ value: UInt64) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, FormatConstants.fileNameDigits - digits.count)) + digits
    }

    static func number(_ name: String, prefix: String, suffix: String) -> LogPosition? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard digits.count == FormatConstants.fileNameDigits, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              let value = UInt64(digits) else { return nil }
        return LogPosition(value)
    }
}
