import SeqboxProtocol
import SeqboxSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One epoll event loop on its own pthread, owning a share of the connections.
///
/// A turn: wait in epoll_wait(2) (at most until the next tick, or not at all when work is
/// scheduled) → handle socket readiness (read, decode, hand frames to the service) → run the
/// inbox (cross-thread sends, closes, closures, adopted sockets) → every `tickIntervalMs`, check
/// every connection's timers → the end-of-turn step of every connection touched this turn
/// (flush its output with one send(2), advance closing, update epoll interest).
///
/// Timers are a periodic scan rather than a timer wheel: with at most ~20,000 connections per
/// process a scan every 250 ms costs a few tens of microseconds, and needs no per-connection
/// timer state beyond two timestamps. Registrations are level-triggered: a connection that stops
/// reading (paused, closing) drops `EPOLLIN` from its interest instead of leaving bytes unread.
///
/// Thread affinity: every `var` below is touched only on the loop's thread; `inbox`, the
/// overload list and the atomics are the only cross-thread entry points (hence
/// `@unchecked Sendable`).
final class EventLoop: @unchecked Sendable {
    let index: Int
    let configuration: AccessConfiguration
    let settings: ConnectionSettings
    let handler: any FrameHandler
    let counters: AccessCounters
    let epoll: Epoll
    let inbox: EventLoopInbox
    private let wakeup: EventFD
    /// Connections whose cross-thread call found the inbox full: closed on the loop next turn.
    private let overloaded = PthreadLocked<[(Connection, CloseReason?)]>([])
    /// The loop thread's pthread_t, 0 before it starts and after it ends.
    private let threadIdentity = Atomic<UInt>(0)
    private let shutdownRequested = Atomic<Bool>(false)

    // Loop-confined state.
    /// The monotonic time of this turn.
    private(set) var nowMs: Int64
    private var connections: [Int32: Connection] = [:]
    private var scheduled: [Connection] = []
    private var scheduledInService: [Connection] = []
    private var tasks: [LoopTask] = []
    private var lastTag: UInt32 = 0
    /// The receive buffer every connection of this loop reads into (decoders copy what they keep).
    let receiveBuffer: UnsafeMutableRawBufferPointer
    private let events: EpollEventBuffer
    /// The listener, on the loop that accepts (loop 0).
    var listener: Listener?
    private var shutdownDeadlineMs: Int64?

    /// epoll data words of the loop's own descriptors (connection words are `tag << 32 | fd`
    /// with fd ≥ 0, so they never take these values).
    static let wakeupData: UInt64 = .max
    static let listenerData: UInt64 = .max - 1
    /// Passes over newly scheduled connections per turn at most; later ones wait a turn.
    static let servicePassesMax = 4

    /// Creates the loop's epoll set and wake-up eventfd; `run()` then drives it.
    static func make(
        index: Int, configuration: AccessConfiguration, settings: ConnectionSettings,
        handler: any FrameHandler, counters: AccessCounters
    ) throws(SystemError) -> EventLoop {
        let epoll = try Epoll.create()
        let wakeup: EventFD
        do {
            wakeup = try EventFD.create()
            try epoll.add(wakeup.rawValue, events: .readable, data: wakeupData)
        } catch {
            epoll.close()
            throw error
        }
        return EventLoop(index: index, configuration: configuration, settings: settings,
                         handler: handler, counters: counters, epoll: epoll, wakeup: wakeup)
    }

    private init(
        index: Int, configuration: AccessConfiguration, settings: ConnectionSettings,
        handler: any FrameHandler, counters: AccessCounters, epoll: Epoll, wakeup: EventFD
    ) {
        self.index = index
        self.configuration = configuration
        self.settings = settings
        self.handler = handler
        self.counters = counters
        self.epoll = epoll
        self.wakeup = wakeup
        self.inbox = EventLoopInbox(tasksMax: configuration.inboxTasksMax, bytesMax: configuration.inboxBytesMax, wakeup: wakeup)
        self.nowMs = MonotonicClock.nowMs()
        self.receiveBuffer = .allocate(byteCount: configuration.receiveChunkBytes, alignment: 16)
        self.events = EpollEventBuffer(capacity: configuration.epollEventsPerWaitMax)
    }

    deinit { receiveBuffer.deallocate() }

    /// True on this loop's thread.
    var isCurrentThread: Bool {
        let identity = threadIdentity.load(ordering: .acquiring)
        return identity != 0 && identity == UInt(pthread_self())
    }

    /// Number of connections this loop holds (loop thread only).
    var connectionCount: Int { connections.count }

    // MARK: Cross-thread entry points

    /// Asks the loop to close every connection with GOODBYE(serverShutdown) and exit. Safe from
    /// any thread and from a signal handler (an atomic store and a write(2) to the eventfd,
    /// which stays open until the loop has exited).
    func requestShutdown() {
        shutdownRequested.store(true, ordering: .releasing)
        wakeup.signal()
    }

    /// A cross-thread call for `connection` found the inbox full: close it on the loop (with
    /// `reason`, or ERROR(overloaded) when nil). Each connection is listed once.
    func flagOverloaded(_ connection: Connection, reason: CloseReason?) {
        counters.countInboxFull()
        guard !connection.overloadFlagged.exchange(true, ordering: .acquiringAndReleasing) else { return }
        overloaded.withLock { $0.append((connection, reason)) }
        inbox.wake()
        configuration.log?("access: loop \(index) inbox full; closing \(connection.id)")
    }

    // MARK: The loop

    /// The loop thread's body: runs until shutdown completes, then releases its descriptors.
    func run() {
        ThreadName.set("seqbox-loop-\(index)")
        threadIdentity.store(UInt(pthread_self()), ordering: .releasing)
        nowMs = MonotonicClock.nowMs()
        var nextTickMs = nowMs + Int64(configuration.tickIntervalMs)
        while true {
            let waitMs = scheduled.isEmpty ? max(0, nextTickMs - nowMs) : 0
            let count: Int
            do {
                count = try epoll.wait(into: events, timeoutMs: Int32(clamping: waitMs))
            } catch {
                preconditionFailure("event loop \(index): \(error)")
            }
            nowMs = MonotonicClock.nowMs()
            for slot in 0 ..< count { dispatch(data: events.data(at: slot), events: events.events(at: slot)) }
            runInbox()
            closeOverloaded()
            if shutdownDeadlineMs == nil && shutdownRequested.load(ordering: .acquiring) { beginShutdown() }
            if nowMs >= nextTickMs {
                tick()
                nextTickMs = nowMs + Int64(configuration.tickIntervalMs)
            }
            runScheduled()
            if let deadline = shutdownDeadlineMs {
                if connections.isEmpty { break }
                if nowMs >= deadline {
                    for connection in Array(connections.values) { connection.abortNow() }
                    break
                }
            }
        }
        finish()
    }

    private func dispatch(data: UInt64, events: EpollEvents) {
        switch data {
        case EventLoop.wakeupData:
            wakeup.drain()
        case EventLoop.listenerData:
            listener?.acceptAvailable(on: self)
        default:
            let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: data))
            guard let connection = connections[fd], connection.epollData == data else { return }
            connection.handleEvents(events)
        }
    }

    private func runInbox() {
        inbox.takeAll(into: &tasks)
        for task in tasks {
            switch task {
            case .write(let connection, let encoded): connection.appendEncoded(encoded)
            case .close(let connection, let reason): connection.beginClose(reason)
            case .run(let body): body()
            case .adopt(let socket): adopt(socket)
            }
        }
        tasks.removeAll(keepingCapacity: tasks.capacity <= 4_096)
    }

    private func closeOverloaded() {
        let flagged = overloaded.withLock { list in
            let taken = list
            list = []
            return taken
        }
        guard !flagged.isEmpty else { return }
        // What was queued before the refused call goes out before the close.
        runInbox()
        for (connection, reason) in flagged {
            if let reason {
                connection.beginClose(reason)
            } else {
                connection.closeOverloaded()
            }
        }
    }

    private func tick() {
        listener?.resumeIfPaused(on: self)
        for connection in connections.values { connection.checkTimers() }
    }

    private func runScheduled() {
        var passes = 0
        while !scheduled.isEmpty && passes < EventLoop.servicePassesMax {
            swap(&scheduled, &scheduledInService)
            for connection in scheduledInService {
                connection.isScheduled = false
                connection.serviceStep()
            }
            scheduledInService.removeAll(keepingCapacity: true)
            passes += 1
        }
    }

    private func beginShutdown() {
        let deadline = nowMs + Int64(configuration.shutdownFlushTimeoutMs)
        shutdownDeadlineMs = deadline
        if let listener {
            listener.close()
            self.listener = nil
        }
        for connection in connections.values { connection.beginClose(.serverShutdown, deadlineMs: deadline) }
    }

    /// Releases the descriptors of a loop whose thread never started (a failed `start()`).
    func releaseWithoutRunning() {
        finish()
    }

    private func finish() {
        for task in inbox.close() {
            switch task {
            case .run(let body): body()
            case .adopt(let socket): refuseAdoption(socket)
            case .write, .close: break
            }
        }
        overloaded.withLock { $0 = [] }
        listener?.close()
        listener = nil
        threadIdentity.store(0, ordering: .releasing)
        epoll.close()
        wakeup.close()
    }

    // MARK: Connections

    /// Takes over a newly accepted socket (its slot is already reserved).
    func adopt(_ socket: Socket) {
        guard shutdownDeadlineMs == nil else {
            refuseAdoption(socket)
            return
        }
        precondition(connections[socket.rawValue] == nil, "descriptor \(socket.rawValue) already held")
        lastTag &+= 1
        let connection = Connection(id: counters.nextConnectionID(), socket: socket, loop: self, tag: lastTag, nowMs: nowMs)
        do {
            try epoll.add(socket.rawValue, events: Connection.readEvents, data: connection.epollData)
        } catch {
            configuration.log?("access: cannot watch a new connection: \(error)")
            refuseAdoption(socket)
            return
        }
        connections[socket.rawValue] = connection
    }

    private func refuseAdoption(_ socket: Socket) {
        socket.close()
        counters.releaseSlot()
        counters.countRefused()
    }

    /// Forgets a torn-down connection and frees its slot.
    func forget(_ connection: Connection) {
        let removed = connections.removeValue(forKey: connection.socket.rawValue)
        precondition(removed === connection, "forgot a connection the loop does not hold")
        counters.releaseSlot()
    }

    /// Puts `connection` on the list for the end-of-turn step (once per turn).
    func schedule(_ connection: Connection) {
        guard !connection.isScheduled else { return }
        connection.isScheduled = true
        scheduled.append(connection)
    }

    /// Bytes held by the buffers of this loop's connections (loop thread only; for tests).
    var connectionBufferBytes: Int { connections.values.reduce(0) { $0 + $1.bufferedBytes } }
}
