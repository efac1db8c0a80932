#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A pthread mutex with one condition variable: the benchmark's blocking hand-offs.
final class ConditionMutex: @unchecked Sendable {
    // Heap-allocated so the pthread objects never move.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    /// Waits for a signal; the caller holds the lock and rechecks its predicate.
    func wait() { pthread_cond_wait(condition, mutex) }
    func signal() { pthread_cond_signal(condition) }
    func broadcast() { pthread_cond_broadcast(condition) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A counting semaphore (bounds the appends in flight of the asynchronous drivers).
final class CountingSemaphore: @unchecked Sendable {
    private let mutex = ConditionMutex()
    private var available: Int

    init(_ value: Int) { available = value }

    func acquire() {
        mutex.lock()
        while available == 0 { mutex.wait() }
        available -= 1
        mutex.unlock()
    }

    func release() {
        mutex.lock()
        available += 1
        if available == 1 { mutex.signal() }
        mutex.unlock()
    }
}

/// The phase of a timed measurement, shared by its threads: operations finishing in
/// `measuring` are counted, `stopped` ends the loops.
final class MeasurementPhase: Sendable {
    static let warmingUp = 0
    static let measuring = 1
    static let stopped = 2
    private let value = Atomic<Int>(MeasurementPhase.warmingUp)

    var current: Int { value.load(ordering: .acquiring) }
    func set(_ phase: Int) { value.store(phase, ordering: .releasing) }

    /// Runs the phases on the calling thread: warm-up, then `seconds` of measurement, then
    /// stop. Returns the measured interval in seconds.
    func drive(warmUp: Double, seconds: Double) -> Double {
        Clock.sleep(seconds: warmUp)
        let start = Clock.nanoseconds()
        set(Self.measuring)
        Clock.sleep(seconds: seconds)
        set(Self.stopped)
        return Clock.seconds(since: start)
    }
}

/// Runs `body(index)` on `count` new pthreads, with `driver` on the calling thread
/// meanwhile; returns after every thread has finished.
func runThreads(count: Int, stackBytes: Int = 1 << 20, _ body: @escaping @Sendable (Int) -> Void,
                whileRunning driver: () -> Void = {}) {
    final class Box: @unchecked Sendable {
        let body: @Sendable (Int) -> Void
        let index: Int
        init(_ body: @escaping @Sendable (Int) -> Void, _ index: Int) { self.body = body; self.index = index }
    }
    var threads: [pthread_t] = []
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setstacksize(&attributes, stackBytes)
    defer { pthread_attr_destroy(&attributes) }
    for index in 0 ..< count {
        let box = Unmanaged.passRetained(Box(body, index)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body(box.index)
            return nil
        }, box)
        precondition(status == 0, "pthread_create failed: \(status)")
        threads.append(thread)
    }
    driver()
    for thread in threads { pthread_join(thread, nil) }
}

/// A value written by several threads under a lock (per-thread results, merged at the end).
final class Collected<Value>: @unchecked Sendable {
    private let mutex = ConditionMutex()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func update(_ body: (inout Value) -> Void) { mutex.withLock { body(&value) } }
    var current: Value { mutex.withLock { value } }
}
