#if canImport(Glibc)
import Glibc
#endif
import CSeqboxShim

/// Readiness bits of an epoll registration or event (`EPOLLIN`, `EPOLLOUT`, …).
public struct EpollEvents: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `EPOLLIN`: bytes (or end of stream, or a pending connection) to read.
    public static let readable = EpollEvents(rawValue: EPOLLIN.rawValue)
    /// `EPOLLOUT`: room in the send buffer.
    public static let writable = EpollEvents(rawValue: EPOLLOUT.rawValue)
    /// `EPOLLRDHUP`: the peer shut down its sending side.
    public static let peerClosedWriting = EpollEvents(rawValue: EPOLLRDHUP.rawValue)
    /// `EPOLLERR`: an error is pending (always reported, never requested).
    public static let error = EpollEvents(rawValue: EPOLLERR.rawValue)
    /// `EPOLLHUP`: both directions are closed (always reported, never requested).
    public static let hangUp = EpollEvents(rawValue: EPOLLHUP.rawValue)
}

/// An epoll instance (level-triggered registrations). Each registration carries a 64-bit
/// `data` word chosen by the caller and returned with its events. A plain value: closing is
/// explicit. Every wrapper names its C call.
public struct Epoll: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// epoll_create1(2) with `EPOLL_CLOEXEC` (`shim_epoll_create`).
    public static func create() throws(SystemError) -> Epoll {
        Epoll(rawValue: try retryingSyscall("epoll_create1") { shim_epoll_create() })
    }

    /// epoll_ctl(2) `EPOLL_CTL_ADD`.
    public func add(_ fd: Int32, events: EpollEvents, data: UInt64) throws(SystemError) {
        try control(EPOLL_CTL_ADD, fd, events: events, data: data, name: "epoll_ctl(ADD)")
    }

    /// epoll_ctl(2) `EPOLL_CTL_MOD`: replaces the registration's events and data.
    public func modify(_ fd: Int32, events: EpollEvents, data: UInt64) throws(SystemError) {
        try control(EPOLL_CTL_MOD, fd, events: events, data: data, name: "epoll_ctl(MOD)")
    }

    /// epoll_ctl(2) `EPOLL_CTL_DEL`. Closing a descriptor that was never duplicated removes its
    /// registration too, so this is only needed for descriptors that stay open.
    public func remove(_ fd: Int32) throws(SystemError) {
        var unused = epoll_event()
        _ = try retryingSyscall("epoll_ctl(DEL)") { epoll_ctl(rawValue, EPOLL_CTL_DEL, fd, &unused) }
    }

    /// epoll_wait(2): fills `buffer` with ready registrations and returns how many, waiting at
    /// most `timeoutMs` (-1: forever, 0: poll). An interrupted wait (`EINTR`) returns 0 rather
    /// than waiting again, so the caller rechecks its timers.
    public func wait(into buffer: EpollEventBuffer, timeoutMs: Int32) throws(SystemError) -> Int {
        let count = epoll_wait(rawValue, buffer.events, Int32(buffer.capacity), timeoutMs)
        if count >= 0 { return Int(count) }
        let error = Errno.current
        if error == .interrupted { return 0 }
        throw SystemError(call: "epoll_wait", errno: error)
    }

    /// close(2).
    public func close() { _ = Glibc.close(rawValue) }

    private func control(_ operation: Int32, _ fd: Int32, events: EpollEvents, data: UInt64, name: String) throws(SystemError) {
        // epoll_event is packed (12 bytes) on x86-64; the initializer lays it out correctly.
        var event = epoll_event(events: events.rawValue, data: epoll_data_t(u64: data))
        _ = try retryingSyscall(name) { epoll_ctl(rawValue, operation, fd, &event) }
    }
}

/// The array epoll_wait(2) fills: allocated once per event loop and reused for every wait.
/// A class because it owns manually allocated memory; used by one thread at a time.
public final class EpollEventBuffer {
    /// Most events one wait returns.
    public let capacity: Int
    fileprivate let events: UnsafeMutablePointer<epoll_event>

    public init(capacity: Int) {
        precondition(capacity > 0, "epoll event buffer needs room for one event")
        self.capacity = capacity
        self.events = .allocate(capacity: capacity)
        self.events.initialize(repeating: epoll_event(), count: capacity)
    }

    deinit { events.deallocate() }

    /// The readiness bits of event `index` (below the count the last wait returned).
    public func events(at index: Int) -> EpollEvents {
        precondition(index >= 0 && index < capacity, "epoll event index out of range")
        return EpollEvents(rawValue: events[index].events)
    }

    /// The data word registered with event `index`'s descriptor.
    public func data(at index: Int) -> UInt64 {
        precondition(index >= 0 && index < capacity, "epoll event index out of range")
        return events[index].data.u64
    }
}
