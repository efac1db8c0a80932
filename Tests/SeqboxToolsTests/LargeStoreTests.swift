import Foundation
import SeqboxFormat
import SeqboxStore
import SeqboxTooling
import XCTest

/// fsck over a store of many records finishes, finds it clean and reports its rate. 100,000
/// records by default (seconds, even in a debug build); `SEQBOX_LARGE=1` makes it 1,000,000,
/// the run recorded in BENCHMARKS.md (use a release build for the rate).
final class LargeStoreTests: XCTestCase {
    static let recordsDefault = 100_000
    static let recordsLarge = 1_000_000
    static let users: UInt64 = 10_000
    static let batchRecords = 1000

    var directory: String!

    override func setUp() { directory = NSTemporaryDirectory() + "seqbox-large-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func testFsckOfALargeStoreFinishesCleanAndReportsItsRate() throws {
        let records = ProcessInfo.processInfo.environment["SEQBOX_LARGE"] == "1" ? Self.recordsLarge : Self.recordsDefault
        try build(records: records)
        let result = ToolRunner.fsck(["--json", directory])
        XCTAssertEqual(result.status, 0, String(result.standardOutput.prefix(2000)))
        XCTAssertEqual(result.json["records"] as? Int, records)
        XCTAssertEqual(result.json["users"] as? Int, Int(Self.users))
        let rate = try XCTUnwrap(result.json["megabytesPerSecond"] as? Double)
        let bytes = try XCTUnwrap(result.json["bytesVerified"] as? Int)
        XCTAssertGreaterThan(rate, 0)
        let segments = result.json["segments"] as? Int ?? 0
        let checkpoints = result.json["validCheckpoints"] as? Int ?? 0
        print("seqbox-fsck verified \(records) records, \(bytes) bytes of log in \(segments) segments with \(checkpoints) checkpoints, at \(rate) MB/s")
    }

    /// Appends `records` messages of ~150 bytes to random users (seeded), without syncs.
    func build(records: Int) throws {
        var options = StoreOptions()
        options.durability = .none
        options.clock = { StoreFixture.timestampMs }
        let store = try MailboxStore.open(directory: directory, options: options)
        var random = SeededRandom(seed: 0x5EED_F5C4)
        var written = 0
        while written < records {
            let count = min(Self.batchRecords, records - written)
            let batch = (0 ..< count).map { offset in
                let index = written + offset
                return NewMessage(user: UserID(random.next() % Self.users + 1), sender: UserID(random.next() % Self.users + 1),
                                  device: DeviceID(1), clientMessageID: ClientMessageID(UInt64(index + 1)),
                                  timestampMs: StoreFixture.timestampMs + UInt64(index),
                                  payload: Array(("message \(index) " + String.letters(count: 130, seed: UInt64(index % 4096))).utf8))
            }
            _ = try store.append(batch: batch)
            written += count
        }
        try store.close()
    }
}
