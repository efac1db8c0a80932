import Foundation
import XCTest
import SeqboxFormat
@testable import SeqboxStore

/// The store's writer thread carries a name, so top and perf can tell it from the rest.
final class StoreThreadNameTests: XCTestCase {
    func testTheWriterThreadIsNamedWhileTheStoreIsOpen() throws {
        let directory = NSTemporaryDirectory() + "seqbox-thread-name-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Counted, not just looked for: a store another test left open has a writer of its own.
        let before = threadNames().filter { $0 == "seqbox-writer" }.count
        let store = try MailboxStore.open(directory: directory)
        // The writer names itself as it starts; an append proves it is running.
        _ = try store.append(NewMessage(user: UserID(1), sender: UserID(2), device: DeviceID(1), clientMessageID: ClientMessageID(1),
                                        timestampMs: 1, payload: [1]))
        XCTAssertEqual(threadNames().filter { $0 == "seqbox-writer" }.count, before + 1, "threads: \(threadNames())")
        try store.close()
    }

    /// The names of this process's threads, from /proc.
    private func threadNames() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }
}
