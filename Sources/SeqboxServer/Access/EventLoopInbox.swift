import SeqboxSystem
import Synchronization

/// Frames encoded on another thread for one connection, with what the connection's state
/// machine must learn from them (replies answer requests in flight; LOGIN_OK ends the handshake).
struct EncodedFrames: Sendable {
    var bytes: [UInt8]
    var replies: Int
    var loginOK: Bool
}

/// One piece of work handed to an event loop from another thread.
enum LoopTask: Sendable {
    /// Append these bytes to the connection's output (a cross-thread `send`).
    case write(Connection, EncodedFrames)
    /// Close the connection (a cross-thread `close`), after the writes queued before it.
    case close(Connection, CloseReason)
    /// Run a closure on the loop (`execute`).
    case run(@Sendable () -> Void)
    /// Take over a newly accepted socket (from the listener on another loop).
    case adopt(Socket)
}

/// A loop's bounded multi-producer inbox: a mutex-protected array the loop swaps out whole each
/// turn, plus the loop's eventfd to wake it. Bounded in tasks and in bytes; a full inbox refuses
/// (the caller then drops the connection as overloaded) instead of growing memory.
///
/// Only the first task after the loop emptied the inbox signals the eventfd, so a burst of sends
/// costs one wake-up. The signal is written under the lock so that once `close()` returns no
/// thread writes to the eventfd again (the loop then closes it).
final class EventLoopInbox: Sendable {
    /// The answer to `enqueue`.
    enum EnqueueResult: Equatable {
        case accepted
        /// `tasksMax` tasks or `bytesMax` bytes are waiting.
        case full
        /// The loop has stopped.
        case closed
    }

    private struct State {
        var tasks: [LoopTask] = []
        var byteCount = 0
        var isClosed = false
    }

    let tasksMax: Int
    let bytesMax: Int
    private let wakeup: EventFD
    private let state = PthreadLocked(State())

    init(tasksMax: Int, bytesMax: Int, wakeup: EventFD) {
        self.tasksMax = tasksMax
        self.bytesMax = bytesMax
        self.wakeup = wakeup
    }

    /// Queues `task` carrying `byteCount` bytes and wakes the loop if it may be asleep.
    func enqueue(_ task: LoopTask, byteCount: Int = 0) -> EnqueueResult {
        state.withLock { state in
            if state.isClosed { return .closed }
            guard state.tasks.count < tasksMax, state.byteCount + byteCount <= bytesMax else { return .full }
            let wasEmpty = state.tasks.isEmpty
            state.tasks.append(task)
            state.byteCount += byteCount
            if wasEmpty { wakeup.signal() }
            return .accepted
        }
    }

    /// Wakes the loop unless it has stopped (signalled under the lock, like `enqueue`).
    func wake() {
        state.withLock { state in
            if !state.isClosed { wakeup.signal() }
        }
    }

    /// Moves every waiting task into `tasks` (which must be empty; its capacity is reused).
    func takeAll(into tasks: inout [LoopTask]) {
        precondition(tasks.isEmpty, "inbox drained into a non-empty array")
        state.withLock { state in
            swap(&state.tasks, &tasks)
            state.byteCount = 0
        }
    }

    /// Refuses every later task and returns those still waiting.
    func close() -> [LoopTask] {
        state.withLock { state in
            state.isClosed = true
            state.byteCount = 0
            let remaining = state.tasks
            state.tasks = []
            return remaining
        }
    }
}
