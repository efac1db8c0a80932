#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking TCP socket to the server: the client's whole network layer. Connects in the
/// background (`connect` returns at once; `connectOutcome()` after the socket turns writable),
/// reads and writes without blocking, never raises SIGPIPE.
struct ClientSocket: Sendable {
    /// What a read returned.
    enum ReadOutcome: Equatable {
        case bytes(Int)
        case wouldBlock
        case closed
        case failed(Int32)
    }

    /// What a write returned.
    enum WriteOutcome: Equatable {
        case bytes(Int)
        case wouldBlock
        case failed(Int32)
    }

    let descriptor: Int32

    /// Starts connecting to `host:port` (a name is resolved first, IPv4 preferred). Returns the
    /// socket, whose connection may still be in progress, or the errno of the failure.
    static func connect(host: String, port: UInt16) -> Result<ClientSocket, SocketFailure> {
        guard let address = resolve(host: host, port: port) else { return .failure(SocketFailure(errno: EHOSTUNREACH)) }
        let family = Int32(address.ss_family)
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failure(SocketFailure(errno: errno)) }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = address
        let length = socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, length) }
        }
        if result != 0, errno != EINPROGRESS {
            let code = errno
            Glibc.close(descriptor)
            return .failure(SocketFailure(errno: code))
        }
        return .success(ClientSocket(descriptor: descriptor))
    }

    /// After the socket turned writable: 0 if connected, else the connect's errno.
    func connectOutcome() -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return errno }
        return error
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> ReadOutcome {
        while true {
            let count = recv(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 { return .bytes(count) }
            if count == 0 { return .closed }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case let code: return .failed(code)
            }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> WriteOutcome {
        while true {
            let count = send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            if count >= 0 { return .bytes(count) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case let code: return .failed(code)
            }
        }
    }

    func close() { Glibc.close(descriptor) }

    /// The first address of `host` (IPv4 first), with `port` set.
    private static func resolve(host: String, port: UInt16) -> sockaddr_storage? {
        for family in [AF_INET, AF_INET6] {
            var hints = addrinfo()
            hints.ai_family = family
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { continue }
            defer { freeaddrinfo(list) }
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
            }
            return storage
        }
        return nil
    }
}

/// A socket call's errno.
struct SocketFailure: Error, Sendable {
    let errno: Int32
}
