#if canImport(Glibc)
import Glibc
#endif

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
