import SeqboxFormat
import SeqboxStore

/// The knobs of one crash scenario, all drawn from its seed so a failure replays from it.
struct FaultConfiguration: CustomStringConvertible {
    /// Segment sizes small enough that a scenario rolls several times.
    static let segmentSizes = [8 << 10, 12 << 10, 16 << 10, 32 << 10]
    /// Idempotency window: larger than any scenario's appends, so every retry is recognised.
    static let dedupWindowEntries = 8192
    /// The directory the store lives in on the simulated disk.
    static let storeDirectory = "/data/store"
    /// First id of the users that only appear in blocklists.
    static let blockedUserBase: UInt64 = 5000

    let seed: UInt64
    let segmentBytes: Int
    let checkpointEverySegments: Int
    let users: Int
    let threads: Int
    let operationsPerThread: Int
    /// Appends a worker may have submitted and not yet seen completed.
    let inFlightMax: Int
    /// The largest payload a worker generates (well inside a segment).
    let payloadBytesMax: Int
    /// Retention by log size (nil: keep everything): old segments are deleted while running.
    let retentionBytes: Int64?
    /// Segments the log keeps under retention.
    static let retainedSegments = 3

    init(seed: UInt64, retention: Bool = false) {
        var random = SeededRandom(seed: seed ^ 0xC0FF_EE00_D15C_0001)
        self.seed = seed
        segmentBytes = Self.segmentSizes[random.nextInt(below: Self.segmentSizes.count)]
        checkpointEverySegments = 1 + random.nextInt(below: 3)
        users = 2 + random.nextInt(below: 5)
        threads = 2 + random.nextInt(below: 3)
        operationsPerThread = 20 + random.nextInt(below: 40)
        inFlightMax = 1 + random.nextInt(below: 4)
        payloadBytesMax = segmentBytes / 4
        retentionBytes = retention ? Int64(segmentBytes * Self.retainedSegments) : nil
    }

    /// Roughly how many appends the workers of one round get acknowledged (for plan ranges).
    var expectedAppendsPerRound: Int { threads * operationsPerThread }

    func storeOptions(on fileSystem: SimulatedFileSystem) -> StoreOptions {
        var options = StoreOptions()
        options.durability = .sync
        options.segmentBytes = segmentBytes
        options.checkpointEverySegments = checkpointEverySegments
        options.dedupWindowEntries = Self.dedupWindowEntries
        options.fileSystem = fileSystem
        options.clock = { 1_700_000_000_000 }
        if let retentionBytes { options.retention = RetentionPolicy(maxBytes: retentionBytes) }
        return options
    }

    var description: String {
        "segmentBytes=\(segmentBytes) checkpointEvery=\(checkpointEverySegments) users=\(users) threads=\(threads) " +
            "ops/thread=\(operationsPerThread) inFlight=\(inFlightMax)" + (retentionBytes.map { " retentionBytes=\($0)" } ?? "")
    }
}
