import Foundation
import SeqboxStore
import Synchronization

/// Takes the crash of one scenario round exactly once, from whichever thread decides it (the
/// test thread, or the store's writer thread inside a fault hook), and tells workers to stop.
///
/// Order matters: the history snapshot is taken *before* `crash`, so every operation in it had
/// completed (and so been made durable) before the crash instant.
final class CrashCoordinator: @unchecked Sendable {
    let fileSystem: SimulatedFileSystem
    let history: FaultHistory
    let crashSeed: UInt64

    /// Set once workers must stop: failures after it are expected.
    private let stopRequested = Atomic<Bool>(false)
    /// Set when a sync failure was injected: the store must not complete anything after it.
    private let syncFaultInjected = Atomic<Bool>(false)
    private let successesAfterSyncFault = Atomic<Int>(0)
    /// Writes failed on purpose (EIO, without effect): the store goes on after them.
    private let writeFaults = Atomic<Int>(0)
    private let lock = NSLock()
    private var outcome: (fileSystem: SimulatedFileSystem, snapshot: FaultHistory.Snapshot)?

    init(fileSystem: SimulatedFileSystem, history: FaultHistory, crashSeed: UInt64) {
        self.fileSystem = fileSystem
        self.history = history
        self.crashSeed = crashSeed
    }

    var isStopping: Bool { stopRequested.load(ordering: .acquiring) }
    var hasCrashed: Bool { lock.withLock { outcome != nil } }

    /// Snapshots the history, then crashes the disk; later calls do nothing.
    func crashNow() {
        stopRequested.store(true, ordering: .releasing)
        lock.withLock {
            guard outcome == nil else { return }
            let snapshot = history.snapshot()
            outcome = (fileSystem.crash(seed: crashSeed), snapshot)
        }
    }

    /// The crashed disk and what had been acknowledged before it (nil before `crashNow`).
    var crashed: (fileSystem: SimulatedFileSystem, snapshot: FaultHistory.Snapshot)? { lock.withLock { outcome } }

    /// Called from the fault hook just before it fails a sync.
    func noteSyncFaultInjected() {
        stopRequested.store(true, ordering: .releasing)
        syncFaultInjected.store(true, ordering: .releasing)
    }

    /// Called from the fault hook just before it fails a write.
    func noteWriteFaultInjected() {
        writeFaults.add(1, ordering: .releasing)
    }

    var writeFaultCount: Int { writeFaults.load(ordering: .acquiring) }

    /// True when `error` is explained by a fault: the crash (or a failed sync) asked workers to
    /// stop, or an injected write failure surfaced as an I/O error.
    func isExpected(_ error: StoreError) -> Bool {
        if isStopping { return true }
        if case .io = error, writeFaultCount > 0 { return true }
        return false
    }

    var didInjectSyncFault: Bool { syncFaultInjected.load(ordering: .acquiring) }

    /// Called by completions that succeeded: after an injected sync failure, none may.
    func noteSuccess() {
        if syncFaultInjected.load(ordering: .acquiring) { successesAfterSyncFault.add(1, ordering: .relaxed) }
    }

    var successCountAfterSyncFault: Int { successesAfterSyncFault.load(ordering: .acquiring) }
}
