#if canImport(Glibc)
import Glibc
#endif
import CSeqboxShim
import SeqboxSystem

/// One load-generator thread's epoll set, waited on with a nanosecond timeout.
///
/// Open-loop sends are due every few microseconds; epoll_wait(2) takes milliseconds, which
/// would delay each send by up to a millisecond and count that delay as server latency. So the
/// wait is epoll_pwait2(2) (Linux 5.11, glibc 2.35), looked up with dlsym because the Glibc
/// module does not declare it; where it is missing the wait falls back to epoll_wait with the
/// timeout rounded up to a millisecond.
final class LoadPoller {
    /// Most events one wait returns.
    static let eventCapacity = 1024

    private typealias PreciseWait = @convention(c) (Int32, UnsafeMutablePointer<epoll_event>?, Int32, UnsafePointer<timespec>?, UnsafeRawPointer?) -> Int32
    private static let preciseWait: PreciseWait? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "epoll_pwait2") else { return nil }
        return unsafeBitCast(symbol, to: PreciseWait.self)
    }()

    let epoll: Epoll
    private let events: UnsafeMutablePointer<epoll_event>
    private var precise = LoadPoller.preciseWait != nil

    init() throws {
        epoll = try Epoll.create()
        events = .allocate(capacity: Self.eventCapacity)
        events.initialize(repeating: epoll_event(), count: Self.eventCapacity)
    }

    deinit {
        events.deallocate()
        epoll.close()
    }

    /// Whether this system has epoll_pwait2 (nanosecond timeouts).
    static var preciseTimeoutsAvailable: Bool { preciseWait != nil }

    func add(_ fd: Int32, events: EpollEvents, data: UInt64) throws {
        try epoll.add(fd, events: events, data: data)
    }

    func modify(_ fd: Int32, events: EpollEvents, data: UInt64) throws {
        try epoll.modify(fd, events: events, data: data)
    }

    /// Waits at most `timeoutNanoseconds` (0: poll) and returns the number of ready events.
    func wait(timeoutNanoseconds: UInt64) throws -> Int {
        var count: Int32
        if precise, let preciseWait = Self.preciseWait {
            var timeout = timespec(tv_sec: Int(timeoutNanoseconds / 1_000_000_000), tv_nsec: Int(timeoutNanoseconds % 1_000_000_000))
            count = preciseWait(epoll.rawValue, events, Int32(Self.eventCapacity), &timeout, nil)
            if count < 0 && errno == ENOSYS {
                precise = false
                return try self.wait(timeoutNanoseconds: timeoutNanoseconds)
            }
        } else {
            let milliseconds = Int32(min(UInt64(Int32.max), (timeoutNanoseconds + 999_999) / 1_000_000))
            count = epoll_wait(epoll.rawValue, events, Int32(Self.eventCapacity), milliseconds)
        }
        if count >= 0 { return Int(count) }
        if errno == EINTR { return 0 }
        throw BenchError("epoll wait: \(String(cString: strerror(errno)))")
    }

    func data(at index: Int) -> UInt64 { events[index].data.u64 }
    func readiness(at index: Int) -> UInt32 { events[index].events }
}
