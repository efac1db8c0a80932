/// Every constant of the on-disk format, in one place. Each names the FORMAT.md section that
/// specifies it. All integers on disk are little-endian.
public enum FormatConstants {
    // MARK: Versions (FORMAT.md "Versions")

    /// The format version written in segment, index and checkpoint headers. A reader refuses a
    /// file whose version it does not know (`unsupportedVersion`), never guesses.
    public static let formatVersion: UInt16 = 1

    // MARK: Segments (FORMAT.md "Segment files")

    /// Segment file magic, bytes 0..<8 of a segment: ASCII "SQBXLOG1".
    public static let segmentMagic: UInt64 = 0x3147_4F4C_5842_5153
    /// Segment header size; the first record starts here. Layout:
    /// magic u64 | version u16 | headerSize u16 | reserved u32 | basePosition u64 |
    /// createdMs u64 | capacity u64 | reserved 16 bytes | checksum u64 (XXH3-64 of bytes 0..<56).
    public static let segmentHeaderSize = 64
    /// Byte offset of the segment header's checksum.
    public static let segmentHeaderChecksumOffset = 56
    /// Segment file name: `basePosition` as 20 decimal digits + this suffix.
    public static let segmentFileSuffix = ".log"
    /// Digits in a segment or index file name.
    public static let fileNameDigits = 20
    /// Default segment size (preallocated, rolled when the next batch does not fit).
    public static let defaultSegmentBytes = 64 << 20
    /// Smallest segment size accepted by the store. A store whose segments are smaller than
    /// one maximal record accepts proportionally smaller payloads (tests use tiny segments).
    public static let minimumSegmentBytes = 4096

    // MARK: Records (FORMAT.md "Records")

    /// Every record starts at an offset that is a multiple of this.
    public static let recordAlignment = 8
    /// Record header size. Layout (offsets in bytes):
    /// 0 checksum u64 | 8 storedLength u32 | 12 type u8 | 13 flags u8 | 14 reserved u16 |
    /// 16 user u64 | 24 seq u32 | 28 rawLength u32 | 32 timestampMs u64 | 40 sender u64 |
    /// 48 device u64 | 56 clientMessageId u64 | 64 payload (storedLength bytes) | zero padding.
    public static let recordHeaderSize = 64
    /// The checksum covers bytes 8 ..< 64 + storedLength, seeded with the segment's base position.
    public static let recordChecksumCoveredFrom = 8
    /// Largest message payload accepted (uncompressed): 1 MiB.
    public static let payloadSizeMax = 1 << 20
    /// Largest stored record: header + payload (+ LZ4 worst-case growth) + alignment padding.
    public static var recordSizeMax: Int {
        alignUp(recordHeaderSize + Compression.maxCompressedSize(payloadSizeMax), to: recordAlignment)
    }
    /// Payloads shorter than this are stored raw: LZ4 cannot save a record's alignment slot.
    public static let compressionThresholdBytes = 64

    /// Record flag bit: the payload is LZ4 block-compressed; `rawLength` is its decoded size.
    public static let flagCompressed: UInt8 = 0x01
    /// Record flag bit: the message is the sender's own outgoing copy.
    public static let flagOutgoing: UInt8 = 0x02
    /// Record flag bit: the first record of a group-commit batch written in `sync` mode. Each
    /// such batch is written only after the previous one was synced, so a valid batch-start
    /// record after damaged bytes proves the damage is not a torn (unsynced) tail.
    public static let flagBatchStart: UInt8 = 0x04
    /// Every flag bit this version knows; a record with other bits set is corrupt.
    public static let flagsKnown: UInt8 = flagCompressed | flagOutgoing | flagBatchStart

    // MARK: Index files (FORMAT.md "Index files")

    /// Index file magic: ASCII "SQBXIDX1".
    public static let indexMagic: UInt64 = 0x3158_4449_5842_5153
    /// Index header: magic u64 | version u16 | reserved u16 | entryCount u32 | basePosition u64 |
    /// segmentLength u64 (bytes of the segment covered, from 0).
    public static let indexHeaderSize = 32
    /// One entry per record: offset u32 | seq u32 | user u64 | type u8 | flags u8 | reserved u16 |
    /// storedLength u32 | keyHash u64 (messages: the idempotency key hash; others: 0).
    public static let indexEntrySize = 32
    /// Index trailer: XXH3-64 of every preceding byte of the file.
    public static let indexTrailerSize = 8
    /// Index file name suffix (same 20-digit base as its segment).
    public static let indexFileSuffix = ".idx"

    // MARK: Checkpoints (FORMAT.md "Checkpoint files")

    /// Checkpoint magic: ASCII "SQBXCKP1".
    public static let checkpointMagic: UInt64 = 0x3150_4B43_5842_5153
    /// Checkpoint file name: "checkpoint-" + 20-digit covered log position + this suffix.
    public static let checkpointFilePrefix = "checkpoint-"
    public static let checkpointFileSuffix = ".ckpt"
    /// How many checkpoints are kept (the newest first; older ones are the fallback).
    public static let checkpointsKept = 2

    // MARK: Directory layout (FORMAT.md "Directory layout")

    public static let lockFileName = "LOCK"
    public static let segmentDirectoryName = "log"

    /// Rounds `value` up to a multiple of `alignment` (a power of two).
    @inline(__always)
    public static func alignUp(_ value: Int, to alignment: Int) -> Int {
        (value + alignment - 1) & ~(alignment - 1)
    }
}
