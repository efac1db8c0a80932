#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A value set once from the client's thread and awaited on the main thread, with a timeout.
final class Outcome<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)

    /// Sets the value unless one is set already.
    func settle(_ newValue: Value) { value.withLock { if $0 == nil { $0 = newValue } } }

    /// Waits up to `seconds`; nil on timeout.
    func wait(seconds: Int) -> Value? {
        let polls = max(1, seconds * 100)
        for _ in 0 ..< polls {
            if let settled = value.withLock({ $0 }) { return settled }
            usleep(10_000)
        }
        return value.withLock { $0 }
    }
}

/// Blocks SIGINT and SIGTERM in every thread (call before starting threads), so the main thread
/// can wait for them with `waitForTermination` and stop the client cleanly.
enum Termination {
    static func blockSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits for SIGINT or SIGTERM.
    static func waitForTermination() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        var signal: Int32 = 0
        sigwait(&set, &signal)
    }

    /// Asks the main thread to finish, as Ctrl-C would.
    static func requestTermination() { kill(getpid(), SIGTERM) }
}
