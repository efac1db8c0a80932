import SeqboxFormat
import SeqboxStore
import SeqboxSystem

/// One segment file opened read-only and mapped whole: its bytes, and what is wrong with its
/// header (checked against the file name), if anything. The descriptor is closed at once; the mapping stays valid, so a store
/// with many segments does not use many descriptors.
final class SegmentFile {
    let base: LogPosition
    let name: String
    let path: String
    let size: Int
    private let mapping: MappedRegion?
    /// Why the header is unusable (or disagrees with the name), nil when it is fine.
    let headerProblem: String?

    var bytes: UnsafeRawBufferPointer { mapping?.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0) }

    /// Bit flips tolerated in the magic before a file counts as "not a Seqbox segment" (exit 2)
    /// rather than a segment whose header was damaged.
    static let magicBitFlipsMax = 2

    private init(base: LogPosition, path: String, size: Int, mapping: MappedRegion?, headerProblem: String?) {
        self.base = base
        self.name = FileNames.segment(base)
        self.path = path
        self.size = size
        self.mapping = mapping
        self.headerProblem = headerProblem
    }

    /// Opens and maps the segment at `path`. Throws `UnusableInput` for a file that is not a
    /// Seqbox segment at all, or one written by a format version this code does not know.
    static func open(path: String, base: LogPosition, fileSystem: any FileSystem) throws(UnusableInput) -> SegmentFile {
        let file: any StorageFile
        do { file = try fileSystem.openReadOnly(path) } catch { throw UnusableInput("\(path): cannot open: \(error)") }
        defer { file.close() }
        let size: Int
        let mapping: MappedRegion?
        do {
            size = Int(try file.size())
            mapping = size > 0 ? try file.map(length: size) : nil
        } catch {
            throw UnusableInput("\(path): cannot read: \(error)")
        }
        let bytes = mapping?.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0)
        var problem: String?
        do {
            let decoded = try SegmentHeader.decode(bytes)
            if decoded.basePosition != base {
                problem = "header base \(decoded.basePosition) differs from the file name"
            }
        } catch {
            switch error {
            case .unsupportedVersion(let version):
                throw UnusableInput("\(path): unknown format version \(version) (this build reads version \(FormatConstants.formatVersion))")
            case .badMagic:
                try checkMagic(bytes, path: path)
                problem = "segment magic damaged"
            case .tooShort:
                try checkMagic(bytes, path: path)
                problem = size == 0 ? "empty file" : "shorter than a segment header (\(size) bytes)"
            default:
                problem = error.description
            }
        }
        return SegmentFile(base: base, path: path, size: size, mapping: mapping, headerProblem: problem)
    }

    /// Throws "not a Seqbox segment" when the file's first 8 bytes are neither the segment
    /// magic with a few flipped bits nor zeroed (a damaged header): then it is some other file.
    private static func checkMagic(_ bytes: UnsafeRawBufferPointer, path: String) throws(UnusableInput) {
        guard bytes.count >= 8 else { return }
        let magic = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        if magic != 0 && (magic ^ FormatConstants.segmentMagic).nonzeroBitCount > magicBitFlipsMax {
            throw UnusableInput("\(path): not a Seqbox segment (bad magic)")
        }
    }

    /// True when every byte is zero (a segment created at a roll whose header never became durable).
    var isAllZero: Bool { SegmentScanner.endOfNonzero(bytes, from: 0) == 0 }

    /// The createdMs field as stored, even when the header does not verify (for a rewrite).
    var storedCreatedMs: UInt64 {
        size >= FormatConstants.segmentHeaderSize ? UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)) : 0
    }
}
