import Foundation
import XCTest
import SeqboxFormat
import SeqboxStore

/// Edges the random model keeps away from so that one finding does not mask the others: each
/// is pinned here by a deterministic test.
final class ModelEdgeCaseTests: XCTestCase {
    /// Small segments, so three payloads the store accepts one by one overflow one segment.
    static let segmentBytes = 8192
    private var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "seqbox-model-edge-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func options(on fileSystem: any FileSystem) -> StoreOptions {
        var options = StoreOptions()
        options.segmentBytes = Self.segmentBytes
        options.fileSystem = fileSystem
        return options
    }

    /// Every payload is valid on its own, but together the records exceed one segment. An atomic
    /// batch may be refused as a whole; if it is accepted, every message must read back, before
    /// and after reopening.
    private func assertBatchLargerThanASegmentIsStoredReadablyOrRefusedWhole(_ options: StoreOptions, directory: String) throws {
        var random = SeededRandom(seed: 42)
        let size = options.payloadBytesMax - 10
        let messages = (1 ... 3).map { id in
            NewMessage(user: UserID(1), sender: UserID(2), device: DeviceID(3), clientMessageID: ClientMessageID(UInt64(id)), timestampMs: 1,
                       payload: (0 ..< size).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
        let total = messages.reduce(0) { $0 + RecordCodec.recordSize(storedLength: $1.payload.count) }
        XCTAssertGreaterThan(total, options.segmentBytes - FormatConstants.segmentHeaderSize, "the batch does not fit one segment")

        var store = try MailboxStore.open(directory: directory, options: options)
        var stored: [NewMessage] = []
        do {
            let results = try store.append(batch: messages)
            XCTAssertEqual(results.map(\.seq), [Seq(1), Seq(2), Seq(3)])
            stored = messages
        } catch {
            // (One `catch` per pattern: a multi-pattern catch over typed throws crashes Swift 6.3.1.)
            switch error {
            case .invalidArgument, .payloadTooLarge:
                XCTAssertEqual(store.newestSeq(user: UserID(1)), .zero, "a refused batch stores nothing")
            default:
                throw error
            }
        }
        let single = NewMessage(user: UserID(1), sender: UserID(2), device: DeviceID(3), clientMessageID: ClientMessageID(99), timestampMs: 1,
                                payload: [1, 2, 3])
        XCTAssertEqual(try store.append(single).seq, Seq(UInt32(stored.count + 1)))
        stored.append(single)
        try assertReads(store, stored, "before reopening")
        try store.close()
        store = try MailboxStore.open(directory: directory, options: options)
        defer { try? store.close() }
        XCTAssertTrue(store.recoveryReport.isClean, store.recoveryReport.summary)
        try assertReads(store, stored, "after reopening")
    }

    private func assertReads(_ store: MailboxStore, _ stored: [NewMessage], _ context: String, file: StaticString = #filePath, line: UInt = #line) throws {
        do {
            let read = try store.read(user: UserID(1), after: .zero, limit: 100)
            XCTAssertEqual(read.status, .ok, context, file: file, line: line)
            XCTAssertEqual(read.messages.map(\.payload), stored.map(\.payload), context, file: file, line: line)
        } catch {
            XCTFail("reading the batch failed \(context): \(error)", file: file, line: line)
        }
    }

    func testBatchLargerThanOneSegmentIsStoredReadablyOrRefusedWholeOnTheSimulatedFileSystem() throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectoryDurably("/edge")
        try assertBatchLargerThanASegmentIsStoredReadablyOrRefusedWhole(options(on: fileSystem), directory: "/edge")
    }

    func testBatchLargerThanOneSegmentIsStoredReadablyOrRefusedWholeOnTheRealFileSystem() throws {
        try assertBatchLargerThanASegmentIsStoredReadablyOrRefusedWhole(options(on: PosixFileSystem()), directory: directory)
    }
}
