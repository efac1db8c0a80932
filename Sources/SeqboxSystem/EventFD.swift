#if canImport(Glibc)
import Glibc
#endif
import CSeqboxShim

/// An eventfd used as a wake-up signal: another thread calls `signal()`, the owner registers
/// the descriptor in its epoll set, sees it readable and calls `drain()`. Signals coalesce
/// (the kernel adds them to one 64-bit counter), so signalling is cheap and never blocks.
public struct EventFD: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// eventfd(2) with `EFD_NONBLOCK | EFD_CLOEXEC` and a zero counter (`shim_eventfd_nonblocking`).
    public static func create() throws(SystemError) -> EventFD {
        EventFD(rawValue: try retryingSyscall("eventfd") { shim_eventfd_nonblocking(0) })
    }

    /// write(2) of 1 to the counter: makes the descriptor readable. Async-signal-safe (only
    /// write(2)), so a signal handler may call it. A full counter (`EAGAIN`, after 2^64-2
    /// unread signals) already reads as signalled, so it is not an error.
    public func signal() {
        var one: UInt64 = 1
        while true {
            if Glibc.write(rawValue, &one, MemoryLayout<UInt64>.size) >= 0 { return }
            if Errno.current != .interrupted { return }
        }
    }

    /// read(2) of the counter: clears every signal so far. Returns whether any was pending.
    @discardableResult
    public func drain() -> Bool {
        var count: UInt64 = 0
        while true {
            if Glibc.read(rawValue, &count, MemoryLayout<UInt64>.size) >= 0 { return count > 0 }
            if Errno.current != .interrupted { return false }
        }
    }

    /// close(2).
    public func close() { _ = Glibc.close(rawValue) }
}
