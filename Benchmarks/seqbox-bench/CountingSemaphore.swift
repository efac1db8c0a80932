/// A counting semaphore (bounds the appends in flight of the asynchronous drivers). A waiting
/// acquirer is woken only once `wakeThreshold` permits are back, so completions on an engine's
/// writer thread do not each pay for a wake-up (an event loop would batch them the same way).
final class CountingSemaphore: @unchecked Sendable {
    private let mutex = ConditionMutex()
    private var available: Int
    private let total: Int
    private let wakeThreshold: Int
    private var waiting = false

    init(_ value: Int, wakeThreshold: Int = 1) {
        precondition(value >= 1 && wakeThreshold >= 1 && wakeThreshold <= value)
        available = value
        total = value
        self.wakeThreshold = wakeThreshold
    }

    func acquire() {
        mutex.lock()
        if available == 0 {
            waiting = true
            while available < wakeThreshold { mutex.wait() }
            waiting = false
        }
        available -= 1
        mutex.unlock()
    }

    func release() {
        mutex.lock()
        available += 1
        if waiting && (available == wakeThreshold || available == total) { mutex.signal() }
        mutex.unlock()
    }

    /// Waits until every permit is back (all the work in flight has completed).
    func drain() {
        mutex.lock()
        waiting = true
        while available < total { mutex.wait() }
        waiting = false
        mutex.unlock()
    }
}
