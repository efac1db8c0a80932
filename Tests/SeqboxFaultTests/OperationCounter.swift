import Foundation
import SeqboxStore

/// A thread-safe count of fault hook calls, and the disk a hook crashed to.
final class OperationCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() -> Int { lock.withLock { count += 1; return count } }

    final class Result: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: SimulatedFileSystem?
        func set(_ fileSystem: SimulatedFileSystem) { lock.withLock { if stored == nil { stored = fileSystem } } }
        var value: SimulatedFileSystem? { lock.withLock { stored } }
    }
}
