#if canImport(Glibc)
import Glibc
#endif

/// A value guarded by a pthread mutex: `Synchronization.Mutex`'s shape, with synchronisation
/// ThreadSanitizer understands (it does not see `Mutex`'s futex and reports false races), so
/// the server can be checked under TSan (`make tsan`). Uncontended cost is the same order.
final class PthreadLocked<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, the mutex held.
    func withLock<T, Failure: Error>(_ body: (inout Value) throws(Failure) -> T) throws(Failure) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
