import Foundation
import SeqboxStore
import SeqboxSystem

/// When a scenario round cuts the power.
enum CrashPlan: CustomStringConvertible {
    /// From the test thread, once this many more appends have been acknowledged.
    case afterAcknowledged(Int)
    /// Inside the fault hook, just before the store's `count`-th file system operation.
    case atOperation(Int)
    /// Inside the fault hook, just before the `count`-th sync of appended records: the batch is
    /// written and not yet durable, so the crash tears it.
    case beforeRecordSync(Int)
    /// Inside the fault hook, `step` operations into roll number `roll` (index file, new segment,
    /// the checkpoint a roll may write).
    case duringRoll(roll: Int, step: Int)
    /// Inside the fault hook, `step` operations into checkpoint number `checkpoint`.
    case duringCheckpoint(checkpoint: Int, step: Int)
    /// The `sync`-th sync of appended records fails with EIO; the crash follows once the workers
    /// have stopped.
    case afterSyncFailure(sync: Int)
    /// Every `period`-th write (records, index files, checkpoints) fails with EIO without
    /// effect; the store goes on, and the crash comes once the workers have finished.
    case writeFailures(period: Int)

    /// Operations a roll takes, with the checkpoint it may write (index file: remove, open,
    /// truncate, write, sync, rename, directory sync; new segment: open, truncate, allocate,
    /// write, sync, directory sync, map; then a checkpoint): roll steps are drawn below this.
    static let stepsPerRoll = 26
    /// Operations a checkpoint takes (temp file, sync, rename, directory sync, list, removal of
    /// the stale one, directory sync): checkpoint steps are drawn below this.
    static let stepsPerCheckpoint = 11

    /// False for the plan the test thread carries out.
    var runsInFaultHook: Bool {
        if case .afterAcknowledged = self { return false }
        return true
    }

    var description: String {
        switch self {
        case .afterAcknowledged(let count): "crash after \(count) more acknowledged appends"
        case .atOperation(let count): "crash before file system operation \(count)"
        case .beforeRecordSync(let count): "crash before record sync \(count)"
        case .duringRoll(let roll, let step): "crash at step \(step) of roll \(roll)"
        case .duringCheckpoint(let checkpoint, let step): "crash at step \(step) of checkpoint \(checkpoint)"
        case .afterSyncFailure(let sync): "EIO on data sync \(sync), then crash"
        case .writeFailures(let period): "EIO on every \(period)th write, crash at the end"
        }
    }
}

/// The fault hook's state: counts operations and fires the plan (once; write failures recur).
final class PlanTracker: @unchecked Sendable {
    let plan: CrashPlan
    /// The coordinator, unowned so that the hook (held by the file system) does not keep the
    /// scenario alive; the scenario clears the hook before it ends.
    unowned let coordinator: CrashCoordinator
    private let lock = NSLock()
    private var operations = 0
    private var rolls = 0
    private var checkpoints = 0
    private var dataSyncs = 0
    private var writes = 0
    private var writeFaults = 0
    /// Operations left before the crash once a roll or checkpoint has been entered.
    private var countdown: Int?
    private var fired = false

    init(plan: CrashPlan, coordinator: CrashCoordinator) {
        self.plan = plan
        self.coordinator = coordinator
    }

    /// True once the plan has fired (the crash taken or the fault injected).
    var didFire: Bool { lock.withLock { fired || writeFaults > 0 } }

    func observe(_ operation: SimulatedFileSystem.Operation, _ path: String) -> Errno? {
        enum Action { case none, crash, failSync, failWrite }
        let action: Action = lock.withLock {
            if fired { return .none }
            operations += 1
            switch plan {
            case .afterAcknowledged:
                return .none
            case .atOperation(let count):
                fired = operations >= count
                return fired ? .crash : .none
            case .beforeRecordSync(let count):
                guard operation == .sync, path.hasSuffix(".log"), isRecordSync(path) else { return .none }
                dataSyncs += 1
                fired = dataSyncs == count
                return fired ? .crash : .none
            case .duringRoll(let roll, let step):
                if operation == .remove && path.hasSuffix(".idx.tmp") {
                    rolls += 1
                    if rolls == roll { countdown = step }
                }
            case .duringCheckpoint(let checkpoint, let step):
                if operation == .remove && path.hasSuffix(".ckpt.tmp") {
                    checkpoints += 1
                    if checkpoints == checkpoint { countdown = step }
                }
            case .writeFailures(let period):
                guard operation == .write else { return .none }
                writes += 1
                return writes % period == 0 ? .failWrite : .none
            case .afterSyncFailure(let sync):
                guard operation == .sync, path.hasSuffix(".log"), isRecordSync(path) else { return .none }
                dataSyncs += 1
                fired = dataSyncs == sync
                return fired ? .failSync : .none
            }
            guard let left = countdown else { return .none }
            if left == 0 {
                fired = true
                return .crash
            }
            countdown = left - 1
            return .none
        }
        switch action {
        case .none:
            return nil
        case .crash:
            coordinator.crashNow()
            return nil
        case .failWrite:
            lock.withLock { writeFaults += 1 }
            coordinator.noteWriteFaultInjected()
            return .io
        case .failSync:
            coordinator.noteSyncFaultInjected()
            return .io
        }
    }

    /// A sync that would make appended records durable: the segment is already durable at its
    /// full (preallocated) size and has unsynced bytes.
    private func isRecordSync(_ path: String) -> Bool {
        let fileSystem = coordinator.fileSystem
        guard let current = fileSystem.contents(of: path), let durable = fileSystem.durableContents(of: path) else { return false }
        return durable.count == current.count && durable != current
    }
}
