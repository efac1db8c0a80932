import SeqboxProtocol
import SeqboxSystem
#if canImport(Glibc)
import Glibc
#endif

/// The listening socket, driven by the loop that accepts (loop 0). Accepts in a loop (up to
/// `acceptsPerWakeupMax` per wake-up) with accept4(2), sets `TCP_NODELAY`, enforces
/// `connectionsMax` and hands connections to the loops round-robin: its own directly, the others
/// through their inboxes.
///
/// A connection over the limit (or for a loop whose inbox is full) gets ERROR(overloaded,
/// closing) written straight into its fresh socket buffer and is closed. When accept4(2) runs out
/// of descriptors or memory, the listener stops watching for connections until the next tick
/// instead of spinning on a level-triggered event it cannot clear.
final class Listener {
    let socket: Socket
    let address: IPv4SocketAddress
    private let loops: [EventLoop]
    private let counters: AccessCounters
    private let acceptsPerWakeupMax: Int
    private let log: (@Sendable (String) -> Void)?
    /// ERROR(overloaded, closing), encoded once.
    private let refusal: [UInt8]
    private var nextLoopIndex = 0
    private var isPaused = false
    private var isClosed = false

    init(socket: Socket, address: IPv4SocketAddress, loops: [EventLoop], counters: AccessCounters,
         configuration: AccessConfiguration) {
        self.socket = socket
        self.address = address
        self.loops = loops
        self.counters = counters
        self.acceptsPerWakeupMax = configuration.acceptsPerWakeupMax
        self.log = configuration.log
        let report = Frame.ErrorReport(
            code: .overloaded, closing: true, retryAfterMs: configuration.overloadedRetryAfterMs,
            message: "connection limit reached")
        self.refusal = FrameEncoder.encode(.error(report), requestID: 0)
    }

    /// Watches the listening socket in `loop`'s epoll set.
    func register(on loop: EventLoop) throws(SystemError) {
        try loop.epoll.add(socket.rawValue, events: .readable, data: EventLoop.listenerData)
    }

    /// Accepts pending connections (on the accepting loop's thread).
    func acceptAvailable(on loop: EventLoop) {
        guard !isClosed else { return }
        for _ in 0 ..< acceptsPerWakeupMax {
            let accepted: Socket?
            do {
                accepted = try socket.accept()
            } catch {
                if Listener.isTransient(error.errno) { continue }
                pause(on: loop, because: error)
                return
            }
            guard let accepted else { return }
            counters.countAccepted()
            guard counters.reserveSlot() else {
                refuse(accepted)
                continue
            }
            try? accepted.setNoDelay(true)
            hand(accepted, from: loop)
        }
    }

    /// Starts watching again after a pause (called every tick).
    func resumeIfPaused(on loop: EventLoop) {
        guard isPaused, !isClosed else { return }
        do {
            try loop.epoll.modify(socket.rawValue, events: .readable, data: EventLoop.listenerData)
            isPaused = false
        } catch {
            log?("access: cannot resume accepting: \(error)")
        }
    }

    /// Stops accepting for good: close(2) (which also leaves the epoll set).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        socket.close()
    }

    private func hand(_ accepted: Socket, from loop: EventLoop) {
        let target = loops[nextLoopIndex]
        nextLoopIndex = (nextLoopIndex + 1) % loops.count
        if target === loop {
            loop.adopt(accepted)
            return
        }
        switch target.inbox.enqueue(.adopt(accepted)) {
        case .accepted:
            return
        case .full, .closed:
            counters.countInboxFull()
            counters.releaseSlot()
            refuse(accepted)
        }
    }

    /// Best effort: the ERROR fits any fresh socket buffer; a client that already sent bytes
    /// may see a reset instead.
    private func refuse(_ accepted: Socket) {
        counters.countRefused()
        _ = refusal.withUnsafeBytes { try? accepted.send($0) }
        accepted.close()
    }

    private func pause(on loop: EventLoop, because error: SystemError) {
        counters.countAcceptPause()
        log?("access: accept paused until the next tick: \(error)")
        do {
            try loop.epoll.modify(socket.rawValue, events: [], data: EventLoop.listenerData)
            isPaused = true
        } catch {
            log?("access: cannot pause accepting: \(error)")
        }
    }

    /// accept4(2) errors that concern one aborted connection, not the listener: try the next.
    private static func isTransient(_ errno: Errno) -> Bool {
        switch errno.rawValue {
        case ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH, EPERM:
            true
        default:
            false
        }
    }
}
