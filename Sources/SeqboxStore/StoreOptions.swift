import SeqboxFormat

/// When an append counts as complete (FORMAT.md "Durability").
public enum Durability: Sendable, Equatable, CustomStringConvertible {
    /// Complete after `fdatasync` of the record (group commit: one sync serves a whole batch).
    case sync
    /// Complete after the write; the log is synced at most `milliseconds` later.
    case interval(milliseconds: Int)
    /// Complete after the write; synced only when a segment is sealed or the store closes.
    case none

    public var description: String {
        switch self {
        case .sync: "sync"
        case .interval(let ms): "interval(\(ms)ms)"
        case .none: "none"
        }
    }

    /// Parses "sync", "none" or "interval:MS" / "interval(MS)".
    public init?(parsing text: String) {
        switch text {
        case "sync": self = .sync
        case "none": self = .none
        default:
            let digits = text.drop(while: { !$0.isNumber }).prefix(while: { $0.isNumber })
            guard text.hasPrefix("interval"), let ms = Int(digits), ms > 0 else { return nil }
            self = .interval(milliseconds: ms)
        }
    }
}

/// What opening does when sealed data fails its checksum or a segment is missing.
public enum CorruptionPolicy: Sendable, Equatable {
    /// Refuse to open: `StoreError.corrupt` carries the recovery report (the default).
    case refuse
    /// Open; lost seqs are explicit: reads of them answer `.lost`, and the report lists them.
    case openWithLoss
}

/// Which sealed segments retention deletes (whole segments only, oldest first).
public struct RetentionPolicy: Sendable, Equatable {
    /// Delete a sealed segment whose newest record is older than this.
    public var maxAgeMs: UInt64?
    /// Delete the oldest sealed segments while the log is larger than this.
    public var maxBytes: Int64?

    public init(maxAgeMs: UInt64? = nil, maxBytes: Int64? = nil) {
        self.maxAgeMs = maxAgeMs
        self.maxBytes = maxBytes
    }

    public static let keepEverything = RetentionPolicy()
    public var isEnabled: Bool { maxAgeMs != nil || maxBytes != nil }
}

/// Everything configurable about a store. Defaults suit a messaging server.
public struct StoreOptions: Sendable {
    public var durability: Durability = .sync
    /// Segment size: preallocated, rolled when the next record does not fit.
    public var segmentBytes: Int = FormatConstants.defaultSegmentBytes
    public var corruptionPolicy: CorruptionPolicy = .refuse
    public var retention: RetentionPolicy = .keepEverything
    /// Idempotency window: the most recent appends (store-wide) whose
    /// (mailbox, sender, device, client message id) keys are remembered.
    public var dedupWindowEntries: Int = 1 << 20
    /// Write a checkpoint after this many segment rolls (bounds the replay at open).
    public var checkpointEverySegments: Int = 4
    /// Group-commit batch bounds.
    public var batchRecordsMax: Int = 8192
    public var batchBytesMax: Int = 8 << 20
    /// Appends waiting for the writer; beyond this, appends fail with `overloaded`.
    public var pendingRequestsMax: Int = 65_536
    /// Largest `limit` a read may ask for.
    public var readLimitMax: Int = 10_000
    /// Milliseconds since the epoch, for ack/block records and retention by age.
    public var clock: @Sendable () -> UInt64 = { wallClockMilliseconds() }
    /// The storage seam (tests pass a `SimulatedFileSystem`).
    public var fileSystem: any FileSystem = PosixFileSystem()

    public init() {}

    /// The largest payload this store accepts: the format's limit, or less when a segment is
    /// too small to hold a maximal record (payloads are never compressed to a larger size).
    public var payloadBytesMax: Int {
        min(FormatConstants.payloadSizeMax,
            segmentBytes - FormatConstants.segmentHeaderSize - FormatConstants.recordHeaderSize - FormatConstants.recordAlignment)
    }

    /// Checks the relationships between options; called by `open`.
    func validate() throws(StoreError) {
        guard segmentBytes >= FormatConstants.minimumSegmentBytes else {
            throw .invalidArgument("segmentBytes \(segmentBytes) is below the minimum \(FormatConstants.minimumSegmentBytes)")
        }
        guard segmentBytes <= Int(UInt32.max) else { throw .invalidArgument("segmentBytes must fit in 32 bits") }
        guard dedupWindowEntries >= 1, batchRecordsMax >= 1, pendingRequestsMax >= 1, checkpointEverySegments >= 1 else {
            throw .invalidArgument("dedupWindowEntries, batchRecordsMax, pendingRequestsMax and checkpointEverySegments must be positive")
        }
        guard batchBytesMax >= RecordCodec.recordSize(storedLength: payloadBytesMax) else {
            throw .invalidArgument("batchBytesMax must hold one maximal record")
        }
        if case .interval(let ms) = durability, ms <= 0 { throw .invalidArgument("interval must be positive") }
    }
}
