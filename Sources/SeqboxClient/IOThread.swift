#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread running one closure: the client's I/O thread. (No Foundation `Thread`, so the
/// library stays embeddable without full Foundation.)
struct IOThread: Sendable {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    let handle: pthread_t

    /// Starts a thread running `body`.
    static func start(_ body: @escaping @Sendable () -> Void) throws(ClientError) -> IOThread {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { context in
            let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw .system(operation: "pthread_create", errno: result)
        }
        return IOThread(handle: handle)
    }

    /// Whether the caller runs on this thread.
    var isCurrent: Bool { pthread_equal(pthread_self(), handle) != 0 }

    /// Waits for the thread to end.
    func join() { pthread_join(handle, nil) }

    /// Lets the thread end on its own (when it stops itself and cannot wait for itself).
    func detach() { pthread_detach(handle) }
}
