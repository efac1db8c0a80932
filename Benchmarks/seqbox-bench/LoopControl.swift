import SeqboxSystem

/// The hand-off between the driving thread and one load thread: phases to run, snapshot
/// requests and the stop flag go in; live counts, snapshots and a failure come out. Every
/// field is under one mutex; the load thread is woken through its eventfd and takes what is
/// new at most once per turn of its loop, so the hot path never touches the lock.
final class LoopControl: @unchecked Sendable {
    private let mutex = ConditionMutex()
    let wake: EventFD

    private var postedPhases: [LoadPhase] = []
    private var snapshotRequests: [Int] = []
    private var snapshots: [Int: PhaseTally] = [:]
    private var liveCounts: [PhaseCounts] = []
    private var stopRequested = false
    private var failureText: String?

    init() throws { wake = try EventFD.create() }
    deinit { wake.close() }

    // MARK: Driving side

    func post(_ phase: LoadPhase) {
        mutex.withLock { postedPhases.append(phase) }
        wake.signal()
    }

    func requestStop() {
        mutex.withLock { stopRequested = true }
        wake.signal()
    }

    /// Counts of every phase so far (published by the load thread every few milliseconds).
    var counts: [PhaseCounts] { mutex.withLock { liveCounts } }

    var failure: String? { mutex.withLock { failureText } }

    /// Asks for phase `index`'s tally and waits for it (nil if the thread failed or stopped).
    func snapshot(of index: Int) -> PhaseTally? {
        mutex.withLock { snapshotRequests.append(index) }
        wake.signal()
        mutex.lock()
        defer { mutex.unlock() }
        while snapshots[index] == nil && failureText == nil && !stopRequested { mutex.wait() }
        return snapshots.removeValue(forKey: index)
    }

    // MARK: Load-thread side

    /// What the driving side posted since the last call.
    struct Orders {
        var phases: [LoadPhase]
        var snapshots: [Int]
        var stop: Bool
    }

    func takeOrders(knownPhases: Int) -> Orders {
        wake.drain()
        return mutex.withLock {
            let orders = Orders(phases: Array(postedPhases.dropFirst(knownPhases)), snapshots: snapshotRequests, stop: stopRequested)
            snapshotRequests = []
            return orders
        }
    }

    func publish(_ counts: [PhaseCounts]) { mutex.withLock { liveCounts = counts } }

    func deliver(_ tally: PhaseTally, of index: Int) {
        mutex.withLock {
            snapshots[index] = tally
            mutex.broadcast()
        }
    }

    func fail(_ text: String) {
        mutex.withLock {
            if failureText == nil { failureText = text }
            mutex.broadcast()
        }
    }
}
