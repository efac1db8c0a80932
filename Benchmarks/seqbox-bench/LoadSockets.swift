#if canImport(Glibc)
import Glibc
#endif
import SeqboxSystem

/// Blocking socket helpers for setting connections up (connect, handshake) before the load
/// starts; the load itself runs on non-blocking sockets in `LoadLoop`.
enum LoadSockets {
    /// Longest a handshake reply may take before the connection counts as failed.
    static let replyTimeoutSeconds = 20
    /// Connections set up per round: the servers' listen backlogs (Redis: 511) stay unfilled.
    static let connectChunk = 256

    /// A blocking TCP connection to `address` with TCP_NODELAY and a receive timeout.
    static func connect(_ address: IPv4SocketAddress) throws -> Int32 {
        let socket = try Socket.tcp(blocking: true)
        do {
            try socket.connect(to: address)
            try socket.setNoDelay(true)
        } catch {
            socket.close()
            throw BenchError("connect to \(address): \(error)")
        }
        var timeout = timeval(tv_sec: replyTimeoutSeconds, tv_usec: 0)
        setsockopt(socket.rawValue, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return socket.rawValue
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw BenchError("send: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// One blocking recv(2) into `buffer`; throws on timeout, error or end of stream.
    static func receive(_ fd: Int32, into buffer: ByteBuffer, what: String) throws {
        while true {
            let space = buffer.writableTail(reserving: 16 << 10)
            let count = recv(fd, space.baseAddress, space.count, 0)
            if count > 0 {
                buffer.commit(count)
                return
            }
            if count < 0 && errno == EINTR { continue }
            if count == 0 { throw BenchError("the server closed the connection during \(what)") }
            if errno == EAGAIN { throw BenchError("no answer to \(what) within \(replyTimeoutSeconds) s") }
            throw BenchError("recv during \(what): \(String(cString: strerror(errno)))")
        }
    }

    static func makeNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// A loopback port free right now (bound and released; the server binds it next).
    static func freeLoopbackPort() throws -> UInt16 {
        let socket = try Socket.listening(on: try IPv4SocketAddress(host: "127.0.0.1", port: 0), backlog: 1)
        defer { socket.close() }
        return try socket.localAddress().port
    }

    /// Parses "HOST:PORT" (a dotted quad or localhost).
    static func address(_ text: String) throws -> IPv4SocketAddress {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw BenchError("expected HOST:PORT, got \(text)")
        }
        return try IPv4SocketAddress(host: String(text[..<colon]), port: port)
    }
}
