#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
@testable import SeqboxServer

/// A tiny HTTP/1.1 server for the offline push tests: listens on 127.0.0.1 on an ephemeral
/// port, answers each request as its script says (a status, a status after a delay, or a stall
/// until released) and records every request. Keep-alive connections are served in order; every
/// wait is bounded and `stop()` ends all threads it started.
final class PushTestReceiver: @unchecked Sendable {
    /// How one request is answered.
    enum Response: Sendable {
        case status(Int)
        /// Waits `seconds`, then answers `status` (longer than the push timeout: a timeout).
        case delayed(seconds: Double, status: Int)
        /// Answers nothing until `release()` (or stop), then `status`.
        case stalled(status: Int)
    }

    /// One request as received.
    struct Request: Sendable {
        var method: String
        var path: String
        var body: [UInt8]

        /// The body as a JSON object (nil if it is not one).
        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        }
        var user: UInt64? { (json?["user"] as? NSNumber)?.uint64Value }
        var newestSeq: UInt32? { (json?["newest_seq"] as? NSNumber)?.uint32Value }
        var devices: [[String: Any]] { json?["devices"] as? [[String: Any]] ?? [] }
        var preview: String? { json?["preview"] as? String }
    }

    /// Longest a stalled answer waits for `release()`.
    static let stallMaxSeconds: Double = 60
    /// Largest request accepted (headers and body).
    static let requestBytesMax = 1 << 20

    private struct State {
        var requests: [Request] = []
        var stopped = false
        var released = false
        var connections: [Int32] = []
        var threads = 0
    }

    private let listener: Int32
    let port: UInt16
    private let state = PthreadLocked(State())
    /// Picks the answer to POST number `index` (0-based). HEAD and other methods get 200.
    private let script: @Sendable (Int, Request) -> Response

    init(script: @escaping @Sendable (Int, Request) -> Response = { _, _ in .status(200) }) throws {
        self.script = script
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ProtocolTestClientError.system("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            Glibc.close(fd)
            throw ProtocolTestClientError.system("bind/listen", errno)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        startThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    var url: String { "http://127.0.0.1:\(port)/push" }

    /// The POSTs received so far, in order.
    var posts: [Request] { state.withLock { $0.requests.filter { $0.method == "POST" } } }

    /// Waits until at least `count` POSTs arrived; returns them (or what arrived by the timeout).
    @discardableResult
    func waitForPosts(_ count: Int, timeout: Double = 15) -> [Request] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let received = posts
            if received.count >= count { return received }
            usleep(5_000)
        }
        return posts
    }

    /// Waits until a POST for `user` with `newest_seq >= seq` arrived.
    func waitForTip(user: UInt64, atLeast seq: UInt32, timeout: Double = 15) -> Request? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let found = posts.first(where: { $0.user == user && ($0.newestSeq ?? 0) >= seq }) { return found }
            usleep(5_000)
        }
        return nil
    }

    /// Lets stalled answers go.
    func release() { state.withLock { $0.released = true } }

    /// Closes the listener and every connection and waits (bounded) for the threads to end.
    func stop() {
        let connections = state.withLock { state -> [Int32]? in
            guard !state.stopped else { return nil }
            state.stopped = true
            return state.connections
        }
        guard let connections else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        for fd in connections { shutdown(fd, Int32(SHUT_RDWR)) }
        let deadline = Date().addingTimeInterval(10)
        while state.withLock({ $0.threads }) > 0 && Date() < deadline { usleep(2_000) }
        Glibc.close(listener)
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func startThread(_ body: @escaping @Sendable () -> Void) {
        state.withLock { $0.threads += 1 }
        Thread.detachNewThread { [self] in
            body()
            state.withLock { $0.threads -= 1 }
        }
    }

    /// Waits up to `ms` for `fd` to be readable; false on timeout.
    private func readable(_ fd: Int32, ms: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, ms) > 0
    }

    private func acceptLoop() {
        while !isStopped {
            guard readable(listener, ms: 50) else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            let registered = state.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.connections.append(fd)
                return true
            }
            guard registered else {
                Glibc.close(fd)
                return
            }
            startThread { [self] in serve(fd) }
        }
    }

    /// Serves requests on one connection until the peer closes it or the receiver stops.
    private func serve(_ fd: Int32) {
        defer {
            state.withLock { $0.connections.removeAll { $0 == fd } }
            Glibc.close(fd)
        }
        var buffer: [UInt8] = []
        while !isStopped {
            guard let request = readRequest(fd, &buffer) else { return }
            let postIndex = state.withLock { state -> Int? in
                state.requests.append(request)
                return request.method == "POST" ? state.requests.filter { $0.method == "POST" }.count - 1 : nil
            }
            let response = postIndex.map { script($0, request) } ?? .status(200)
            let status: Int
            switch response {
            case .status(let code):
                status = code
            case .delayed(let seconds, let code):
                let deadline = Date().addingTimeInterval(seconds)
                while Date() < deadline && !isStopped { usleep(5_000) }
                status = code
            case .stalled(let code):
                let deadline = Date().addingTimeInterval(PushTestReceiver.stallMaxSeconds)
                while Date() < deadline && !isStopped && !state.withLock({ $0.released }) { usleep(5_000) }
                status = code
            }
            if isStopped { return }
            let head = Array("HTTP/1.1 \(status) Status\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n".utf8)
            let written = head.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written != head.count { return }
        }
    }

    /// Reads one request (headers and a Content-Length body); nil when the connection ends.
    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> Request? {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        var contentLength = 0
        while !isStopped {
            if headerEnd == nil, let end = find(separator, in: buffer) {
                headerEnd = end
                let head = String(decoding: buffer[0 ..< end], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == "content-length" {
                        contentLength = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
                    }
                }
            }
            if let end = headerEnd, buffer.count >= end + 4 + contentLength {
                let head = String(decoding: buffer[0 ..< end], as: UTF8.self)
                let requestLine = head.split(separator: "\r\n").first.map(String.init) ?? ""
                let words = requestLine.split(separator: " ")
                let body = Array(buffer[(end + 4) ..< (end + 4 + contentLength)])
                buffer.removeFirst(end + 4 + contentLength)
                return Request(method: words.first.map(String.init) ?? "", path: words.count > 1 ? String(words[1]) : "", body: body)
            }
            guard buffer.count < PushTestReceiver.requestBytesMax else { return nil }
            guard readable(fd, ms: 50) else { continue }
            var chunk = [UInt8](repeating: 0, count: 16 << 10)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return nil }
            buffer += chunk[0 ..< count]
        }
        return nil
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0 ... (haystack.count - needle.count) where haystack[start ..< start + needle.count].elementsEqual(needle) {
            return start
        }
        return nil
    }
}

/// A loopback port nothing listens on (bound, then closed).
func closedLoopbackPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
    defer { Glibc.close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: address.sin_port)
}
