import Foundation
import SeqboxFormat
import SeqboxStore
import XCTest

/// A store that creates its own directories must make their names durable (fsync of each
/// parent) before it acknowledges anything: otherwise a power cut after the first acknowledged
/// append can lose the whole directory, and with it every message.
final class DirectoryDurabilityTests: XCTestCase {
    private func options(on fileSystem: SimulatedFileSystem) -> StoreOptions {
        var options = StoreOptions()
        options.segmentBytes = 16 << 10
        options.fileSystem = fileSystem
        return options
    }

    private func assertAcknowledgedAppendsSurviveCrash(storeDirectory: String, existing: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectoryDurably(existing)
        let store = try MailboxStore.open(directory: storeDirectory, options: options(on: fileSystem))
        defer { try? store.close() }
        var acknowledged: [Seq] = []
        for index in 1 ... 3 {
            acknowledged.append(try store.append(NewMessage(user: UserID(1), sender: UserID(2), device: DeviceID(1),
                                                            clientMessageID: ClientMessageID(UInt64(index)), timestampMs: 0,
                                                            payload: Array("message \(index)".utf8))).seq)
        }
        for seed in UInt64(0) ..< 8 {
            let crashed = fileSystem.crash(seed: seed)
            let reopened = try MailboxStore.open(directory: storeDirectory, options: options(on: crashed))
            let read = try reopened.read(user: UserID(1), after: .zero, limit: 10)
            try reopened.close()
            guard read.messages.map(\.seq) == acknowledged else {
                return XCTFail("crash seed \(seed): acknowledged seqs \(acknowledged) came back as \(read.messages.map(\.seq)): " +
                               "a directory the store created under \(existing) was not made durable (fsync of its parent)",
                               file: file, line: line)
            }
        }
    }

    /// The data directory exists; the store creates log/ in it.
    func testAcknowledgedAppendsSurviveACrashWhenTheStoreCreatedItsLogDirectory() throws {
        try assertAcknowledgedAppendsSurviveCrash(storeDirectory: "/data/store", existing: "/data/store")
    }

    /// Only the parent exists; the store creates its data directory (mkdir -p) and log/.
    func testAcknowledgedAppendsSurviveACrashWhenTheStoreCreatedItsDataDirectory() throws {
        try assertAcknowledgedAppendsSurviveCrash(storeDirectory: "/data/store", existing: "/data")
    }
}
