import Foundation
import SeqboxFormat
import SeqboxStore
import XCTest

/// A full disk: appends that need a new segment fail with `diskFull` (nothing half-written, no
/// seq consumed), reads keep working, the store is not poisoned, and once space is freed the
/// sequences continue where they stopped; reopening (also after a crash) shows everything
/// acknowledged.
final class DiskFullTests: XCTestCase {
    static let segmentBytes = 16 << 10
    static let directory = "/data/store"
    static let users: UInt64 = 3
    /// Appends tried before the disk must have filled (a segment holds far fewer).
    static let appendsBeforeFullMax = 2000
    /// Free space that holds a sealed segment's index file and a checkpoint of this test's
    /// state, but not a new segment.
    static let indexAndCheckpointBytes: Int64 = 6144

    private func options(on fileSystem: SimulatedFileSystem) -> StoreOptions {
        var options = StoreOptions()
        options.segmentBytes = Self.segmentBytes
        options.checkpointEverySegments = 1
        options.fileSystem = fileSystem
        return options
    }

    private func message(_ id: UInt64) -> NewMessage {
        let user = 1 + id % Self.users
        return NewMessage(user: UserID(user), sender: UserID(77), device: DeviceID(1), clientMessageID: ClientMessageID(id),
                          timestampMs: 1_700_000_000_000,
                          payload: Array("user=\(user) cmid=\(id);".utf8) + [UInt8](repeating: UInt8(truncatingIfNeeded: id), count: Int(id % 700)))
    }

    /// Checks that `store` holds exactly `acknowledged` (cmid by user, in seq order).
    private func assertHolds(_ acknowledged: [UInt64: [UInt64]], in store: MailboxStore, _ context: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        for user in 1 ... Self.users {
            let expected = acknowledged[user] ?? []
            XCTAssertEqual(store.newestSeq(user: UserID(user)), Seq(UInt32(expected.count)), "\(context): user \(user)", file: file, line: line)
            var stored: [StoredMessage] = []
            while stored.count < expected.count {
                let read = try store.read(user: UserID(user), after: Seq(UInt32(stored.count)), limit: 500)
                XCTAssertEqual(read.status, .ok, "\(context): user \(user)", file: file, line: line)
                guard !read.messages.isEmpty else { break }
                stored += read.messages
            }
            XCTAssertEqual(stored.map(\.seq), (0 ..< expected.count).map { Seq(UInt32($0 + 1)) }, "\(context): user \(user) seqs", file: file, line: line)
            XCTAssertEqual(stored.map(\.clientMessageID.rawValue), expected, "\(context): user \(user) messages", file: file, line: line)
            for message in stored where message.payload != self.message(message.clientMessageID.rawValue).payload {
                XCTFail("\(context): user \(user) seq \(message.seq) payload damaged", file: file, line: line)
            }
        }
    }

    /// `headroom`: bytes left free once the first segment is in use; below a segment's size, so a
    /// roll cannot preallocate the next one (small values also fail its index file). With
    /// `crashWhileFull`, the power fails while the disk is full and the test goes on with the
    /// store reopened on what the disk kept.
    private func runDiskFull(headroom: Int64, crashWhileFull: Bool) throws {
        let context = "headroom \(headroom)\(crashWhileFull ? ", crash while full" : "")"
        var fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectoryDurably(Self.directory)
        var store = try MailboxStore.open(directory: Self.directory, options: options(on: fileSystem))
        defer { try? store.close() }
        var acknowledged: [UInt64: [UInt64]] = [:]
        var nextID: UInt64 = 1
        func append() throws(StoreError) -> AppendResult {
            let candidate = message(nextID)
            nextID += 1
            let result = try store.append(candidate)
            acknowledged[candidate.user.rawValue, default: []].append(candidate.clientMessageID.rawValue)
            XCTAssertEqual(result, AppendResult(seq: Seq(UInt32(acknowledged[candidate.user.rawValue]!.count)), duplicate: false), context)
            return result
        }

        fileSystem.capacityBytes = fileSystem.usedBytes + headroom
        var failure: StoreError?
        for _ in 0 ..< Self.appendsBeforeFullMax {
            do { _ = try append() } catch {
                failure = error
                break
            }
        }
        guard case .diskFull(let detail)? = failure else { return XCTFail("\(context): expected diskFull, got \(String(describing: failure))") }
        if headroom >= Self.indexAndCheckpointBytes {
            XCTAssertTrue(detail.contains(".log"), "\(context): expected the new segment's preallocation to fail, got \(detail)")
        }
        for _ in 0 ..< 5 {
            XCTAssertThrowsError(try append(), context) { error in
                guard case .diskFull = error as? StoreError else { return XCTFail("\(context): expected diskFull, got \(error)") }
            }
        }
        try assertHolds(acknowledged, in: store, "\(context), disk full")

        if crashWhileFull {
            try? store.close()
            fileSystem = fileSystem.crash(seed: UInt64(headroom))
            store = try MailboxStore.open(directory: Self.directory, options: options(on: fileSystem))
            XCTAssertTrue(store.recoveryReport.isClean, "\(context): \(store.recoveryReport)")
            try assertHolds(acknowledged, in: store, "\(context), reopened on the full disk after a crash")
        }
        fileSystem.capacityBytes = nil
        for _ in 0 ..< 3 * Int(Self.users) { _ = try append() }
        try assertHolds(acknowledged, in: store, "\(context), space freed")
        for seed in UInt64(0) ..< 3 {
            let reopened = try MailboxStore.open(directory: Self.directory, options: options(on: fileSystem.crash(seed: seed)))
            XCTAssertTrue(reopened.recoveryReport.isClean, "\(context): \(reopened.recoveryReport)")
            try assertHolds(acknowledged, in: reopened, "\(context), reopened after a crash with seed \(seed)")
            try reopened.close()
        }
    }

    func testAFullDiskFailsAppendsWithDiskFullKeepsReadsAndResumesOnceSpaceIsFreed() throws {
        for headroom: Int64 in [0, 512, 2048, Self.indexAndCheckpointBytes, Int64(Self.segmentBytes) - 1024] {
            try runDiskFull(headroom: headroom, crashWhileFull: false)
        }
    }

    func testAPowerCutWhileTheDiskIsFullLosesNothingAndTheStoreResumesOnceSpaceIsFreed() throws {
        for headroom: Int64 in [0, 2048, Self.indexAndCheckpointBytes, Int64(Self.segmentBytes) - 1024] {
            try runDiskFull(headroom: headroom, crashWhileFull: true)
        }
    }

    /// A store whose disk is full still opens (its opening checkpoint is best effort) and serves
    /// every acknowledged message.
    func testAStoreOnAFullDiskStillOpensAndServesReads() throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectoryDurably(Self.directory)
        var store = try MailboxStore.open(directory: Self.directory, options: options(on: fileSystem))
        var acknowledged: [UInt64: [UInt64]] = [:]
        for id in UInt64(1) ... 40 {
            _ = try store.append(message(id))
            acknowledged[message(id).user.rawValue, default: []].append(id)
        }
        fileSystem.capacityBytes = fileSystem.usedBytes
        try? store.close()
        store = try MailboxStore.open(directory: Self.directory, options: options(on: fileSystem))
        try assertHolds(acknowledged, in: store, "reopened on a full disk")
        try? store.close()
        let crashed = fileSystem.crash(seed: 1)
        store = try MailboxStore.open(directory: Self.directory, options: options(on: crashed))
        try assertHolds(acknowledged, in: store, "reopened on a full disk after a crash")
        try? store.close()
    }
}
