#if canImport(Glibc)
import Glibc
#endif
import SeqboxStore
import Synchronization

/// The durable writes a handler (the service, or a storage node's handler) has handed to
/// storage, and the switch that stops new ones, so a graceful shutdown can refuse new writes
/// and then wait until every write in flight was answered.
final class WriteGate: Sendable {
    /// Writes handed to storage whose answer is not queued yet.
    private let inFlight = Atomic<Int>(0)
    /// Set by `close`: new writes are refused with `unavailable`.
    private let closed = Atomic<Bool>(false)

    /// Whether new writes are refused (shutdown began).
    var isClosed: Bool { closed.load(ordering: .relaxed) }

    /// Writes in flight now.
    var count: Int { inFlight.load(ordering: .relaxed) }

    /// Counts a write about to be handed to storage, unless shutdown began. Counted first and
    /// the switch read second (both sequentially consistent, as in `close` then
    /// `waitUntilDrained`), so either the drain sees this write or this write sees the switch:
    /// none slips past a finished drain.
    func tryBegin() -> Bool {
        inFlight.add(1, ordering: .sequentiallyConsistent)
        guard !closed.load(ordering: .sequentiallyConsistent) else {
            inFlight.subtract(1, ordering: .sequentiallyConsistent)
            return false
        }
        return true
    }

    /// Counts a write whatever the switch says (the caller reads `isClosed` afterwards and
    /// answers it itself).
    func begin() { inFlight.add(1, ordering: .sequentiallyConsistent) }

    /// A write's answer was queued.
    func end() { inFlight.subtract(1, ordering: .sequentiallyConsistent) }

    /// Shutdown step 1: refuse new writes; those in flight go on.
    func close() { closed.store(true, ordering: .sequentiallyConsistent) }

    /// Shutdown step 2: waits until no write is in flight, or `timeoutMs` passed. Returns whether
    /// every write completed.
    func waitUntilDrained(timeoutMs: Int) -> Bool {
        let deadline = monotonicNanoseconds() + UInt64(max(0, timeoutMs)) * 1_000_000
        while inFlight.load(ordering: .sequentiallyConsistent) > 0 {
            guard monotonicNanoseconds() < deadline else { return false }
            usleep(1_000)
        }
        return true
    }
}
