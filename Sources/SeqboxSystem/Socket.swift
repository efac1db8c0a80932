#if canImport(Glibc)
import Glibc
#endif
import CSeqboxShim

/// An IPv4 address and TCP port, as bound or connected to. IPv4 only: the server listens on one
/// numeric address (loopback by default); host names are resolved elsewhere, if at all.
public struct IPv4SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address in network byte order, as `in_addr.s_addr` holds it.
    public let addressNetworkOrder: UInt32
    /// The port in host byte order.
    public let port: UInt16

    /// Parses a dotted-quad `host` ("127.0.0.1", "0.0.0.0") with inet_pton(3); "localhost" is
    /// accepted as 127.0.0.1. Throws `EINVAL` for anything else.
    public init(host: String, port: UInt16) throws(SystemError) {
        let numeric = host == "localhost" ? "127.0.0.1" : host
        var address = in_addr()
        guard inet_pton(AF_INET, numeric, &address) == 1 else {
            throw SystemError(call: "inet_pton", path: host, errno: Errno(rawValue: EINVAL))
        }
        self.addressNetworkOrder = address.s_addr
        self.port = port
    }

    /// The address a `sockaddr_in` holds.
    public init(_ address: sockaddr_in) {
        self.addressNetworkOrder = address.sin_addr.s_addr
        self.port = UInt16(bigEndian: address.sin_port)
    }

    /// The same address with another port.
    public func with(port: UInt16) -> IPv4SocketAddress {
        var copy = sockaddr_in()
        copy.sin_addr.s_addr = addressNetworkOrder
        copy.sin_port = port.bigEndian
        return IPv4SocketAddress(copy)
    }

    /// The C structure for bind(2) and connect(2).
    public var sockaddr: sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = addressNetworkOrder
        return address
    }

    /// The dotted quad, e.g. "127.0.0.1".
    public var host: String {
        let value = UInt32(bigEndian: addressNetworkOrder)
        return "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
    }

    public var description: String { "\(host):\(port)" }
}

/// A TCP socket descriptor with typed wrappers for the calls a non-blocking server and its tests
/// make. A plain value like `FileDescriptor`: closing is explicit. Every wrapper names its C call;
/// errors come back as `SystemError` through `retryingSyscall` (EINTR retried), and "would
/// block" is a value, not an error, because on a non-blocking socket it is the normal case.
public struct Socket: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The outcome of one receive on a socket.
    public enum ReceiveResult: Equatable, Sendable {
        /// This many bytes (at least 1) were read.
        case received(Int)
        /// Nothing to read now (`EAGAIN`): wait for readiness.
        case wouldBlock
        /// The peer closed its sending side (read returned 0).
        case endOfStream
    }

    /// Which direction(s) `shutdown(_:)` ends.
    public enum ShutdownDirection: Sendable {
        case reading, writing, both
    }

    public var description: String { "socket \(rawValue)" }

    /// socket(2): a TCP/IPv4 socket with `SOCK_CLOEXEC`, and `SOCK_NONBLOCK` unless `blocking`.
    public static func tcp(blocking: Bool = false) throws(SystemError) -> Socket {
        var type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if !blocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        let fd = try retryingSyscall("socket") { Glibc.socket(AF_INET, type, 0) }
        return Socket(rawValue: fd)
    }

    /// A non-blocking listening socket: socket(2), setsockopt(2) `SO_REUSEADDR` (a restarted
    /// server rebinds its port while old connections sit in TIME_WAIT), bind(2), listen(2).
    /// Port 0 binds an ephemeral port: read it back with `localAddress()`.
    public static func listening(on address: IPv4SocketAddress, backlog: Int32) throws(SystemError) -> Socket {
        let socket = try Socket.tcp()
        do {
            try socket.setOption(SOL_SOCKET, SO_REUSEADDR, 1, name: "SO_REUSEADDR")
            try socket.bind(to: address)
            try socket.listen(backlog: backlog)
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// bind(2).
    public func bind(to address: IPv4SocketAddress) throws(SystemError) {
        var storage = address.sockaddr
        _ = try retryingSyscall("bind", path: address.description) {
            withUnsafePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                    Glibc.bind(rawValue, generic, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// listen(2). The kernel caps `backlog` at `net.core.somaxconn`.
    public func listen(backlog: Int32) throws(SystemError) {
        _ = try retryingSyscall("listen") { Glibc.listen(rawValue, backlog) }
    }

    /// accept4(2) with `SOCK_NONBLOCK | SOCK_CLOEXEC` (`shim_accept4_nonblocking`): the next
    /// pending connection, already non-blocking, or nil when none is pending (`EAGAIN`).
    public func accept() throws(SystemError) -> Socket? {
        do {
            let fd = try retryingSyscall("accept4") { shim_accept4_nonblocking(rawValue, nil, nil) }
            return Socket(rawValue: fd)
        } catch where error.errno == .wouldBlock {
            return nil
        }
    }

    /// connect(2). On a non-blocking socket returns false while the connection is in progress
    /// (`EINPROGRESS`): wait for writability, then check `pendingError()`.
    @discardableResult
    public func connect(to address: IPv4SocketAddress) throws(SystemError) -> Bool {
        var storage = address.sockaddr
        let result = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                Glibc.connect(rawValue, generic, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result == 0 { return true }
        let error = Errno.current
        if error.rawValue == EINPROGRESS { return false }
        throw SystemError(call: "connect", path: address.description, errno: error)
    }

    /// getsockname(2): the address this socket is bound to (the real port after binding port 0).
    public func localAddress() throws(SystemError) -> IPv4SocketAddress {
        var storage = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = try retryingSyscall("getsockname") {
            withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(rawValue, $0, &length) }
            }
        }
        return IPv4SocketAddress(storage)
    }

    /// recv(2) into `buffer`.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReceiveResult {
        do {
            let count = try retryingSyscall("recv") { recv(rawValue, buffer.baseAddress, buffer.count, 0) }
            return count == 0 ? .endOfStream : .received(count)
        } catch where error.errno == .wouldBlock {
            return .wouldBlock
        }
    }

    /// send(2) with `MSG_NOSIGNAL` (a closed peer is `EPIPE`, not a process-killing SIGPIPE).
    /// Returns the bytes taken by the kernel, or nil when its send buffer is full (`EAGAIN`).
    public func send(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int? {
        do {
            return try retryingSyscall("send") {
                Glibc.send(rawValue, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            }
        } catch where error.errno == .wouldBlock {
            return nil
        }
    }

    /// send(2) of all of `bytes` on a blocking socket (tests and tools), looping over short sends.
    public func sendAll(_ bytes: [UInt8]) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(SystemError) in try send(UnsafeRawBufferPointer(rebasing: raw[done...])) }
            }
            guard let sent = try result.get() else { throw SystemError(call: "send", errno: .wouldBlock) }
            done += sent
        }
    }

    /// shutdown(2): ends one or both directions; `writing` sends FIN after the queued bytes.
    public func shutdown(_ direction: ShutdownDirection) throws(SystemError) {
        let how: Int32 = switch direction {
        case .reading: Int32(SHUT_RD)
        case .writing: Int32(SHUT_WR)
        case .both: Int32(SHUT_RDWR)
        }
        _ = try retryingSyscall("shutdown") { Glibc.shutdown(rawValue, how) }
    }

    /// close(2). Errors are ignored: the descriptor is gone either way on Linux, and so is its
    /// registration in any epoll set (no descriptor is ever duplicated).
    public func close() { _ = Glibc.close(rawValue) }

    /// setsockopt(2) `TCP_NODELAY`: small frames go out at once (no Nagle delay).
    public func setNoDelay(_ enabled: Bool) throws(SystemError) {
        try setOption(Int32(IPPROTO_TCP), Socket.tcpNoDelayOption, enabled ? 1 : 0, name: "TCP_NODELAY")
    }

    /// setsockopt(2) `SO_RCVBUF` (the kernel doubles it and applies a minimum).
    public func setReceiveBufferSize(_ bytes: Int) throws(SystemError) {
        try setOption(SOL_SOCKET, SO_RCVBUF, Int32(clamping: bytes), name: "SO_RCVBUF")
    }

    /// setsockopt(2) `SO_SNDBUF` (the kernel doubles it and applies a minimum).
    public func setSendBufferSize(_ bytes: Int) throws(SystemError) {
        try setOption(SOL_SOCKET, SO_SNDBUF, Int32(clamping: bytes), name: "SO_SNDBUF")
    }

    /// setsockopt(2) `SO_LINGER` with a zero timeout: close(2) then resets the connection
    /// (RST) instead of a graceful FIN. For tests that need a reset peer.
    public func setResetOnClose() throws(SystemError) {
        var value = linger(l_onoff: 1, l_linger: 0)
        _ = try retryingSyscall("setsockopt", path: "SO_LINGER") {
            setsockopt(rawValue, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
        }
    }

    /// getsockopt(2) `SO_ERROR`: the error of a failed non-blocking connect, or nil.
    public func pendingError() throws(SystemError) -> Errno? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try retryingSyscall("getsockopt", path: "SO_ERROR") {
            getsockopt(rawValue, SOL_SOCKET, SO_ERROR, &value, &length)
        }
        return value == 0 ? nil : Errno(rawValue: value)
    }

    /// setsockopt(2) of an `Int32` option.
    private func setOption(_ level: Int32, _ option: Int32, _ value: Int32, name: String) throws(SystemError) {
        var value = value
        _ = try retryingSyscall("setsockopt", path: name) {
            setsockopt(rawValue, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// `TCP_NODELAY` from <netinet/tcp.h> (1 on Linux; the header is not part of Glibc's module).
    private static let tcpNoDelayOption: Int32 = 1
}
