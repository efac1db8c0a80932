#if canImport(Glibc)
import Glibc
#endif
import SeqboxSystem

/// A joinable pthread running one closure: an event loop's thread. pthreads rather than Dispatch
/// or Swift concurrency because a loop blocks in epoll_wait(2) and owns its thread for life.
final class LoopThread {
    private var handle: pthread_t

    private init(handle: pthread_t) { self.handle = handle }

    /// pthread_create(3) running `body`.
    static func spawn(_ body: @escaping @Sendable () -> Void) throws(SystemError) -> LoopThread {
        final class Start {
            let body: @Sendable () -> Void
            init(body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let start = Unmanaged.passRetained(Start(body: body))
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { argument in
            let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
            start.body()
            return nil
        }, start.toOpaque())
        guard result == 0 else {
            start.release()
            throw SystemError(call: "pthread_create", errno: Errno(rawValue: result))
        }
        return LoopThread(handle: handle)
    }

    /// pthread_join(3): waits for the thread to end. Call once.
    func join() {
        _ = pthread_join(handle, nil)
    }
}
