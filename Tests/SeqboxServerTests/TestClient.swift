#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxProtocol

/// Why a test client call failed.
enum ProtocolTestClientError: Error, CustomStringConvertible {
    case timeout(String)
    case closed(String)
    case system(String, Int32)
    case protocolError(ProtocolError)
    case unexpected(String)

    var description: String {
        switch self {
        case .timeout(let what): "timed out waiting for \(what)"
        case .closed(let what): "connection closed while waiting for \(what)"
        case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
        case .protocolError(let error): "protocol error: \(error)"
        case .unexpected(let what): "unexpected: \(what)"
        }
    }
}

/// A blocking TCP client speaking the Seqbox protocol through `SeqboxProtocol`, for tests:
/// every wait has a timeout (poll(2)), frames that arrive while waiting for another (NOTIFY,
/// out-of-order replies) are kept for later calls.
final class ProtocolTestClient {
    /// Default wait for a reply, in seconds.
    static let replyTimeout: Double = 10

    private(set) var fd: Int32
    private var decoder = FrameDecoder(receiver: .client)
    private var nextRequestID: UInt32 = 1
    /// Frames received and not yet taken.
    private(set) var inbox: [DecodedFrame] = []
    /// True once the server closed its end (read returned 0 or a reset).
    private(set) var peerClosed = false
    private(set) var helloOK: Frame.HelloOK?

    private init(fd: Int32) { self.fd = fd }

    deinit { close() }

    /// Connects to `host:port` (blocking, with `timeout` seconds), optionally from `source`.
    static func connect(port: UInt16, host: String = "127.0.0.1", receiveBufferBytes: Int32? = nil) throws -> ProtocolTestClient {
        ProtocolTestClient(fd: try connectedSocket(port: port, host: host, receiveBufferBytes: receiveBufferBytes))
    }

    /// A blocking TCP socket (TCP_NODELAY) connected to `host:port`; closed again on failure.
    static func connectedSocket(port: UInt16, host: String = "127.0.0.1", receiveBufferBytes: Int32? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ProtocolTestClientError.system("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if var size = receiveBufferBytes {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            let failure = errno
            Glibc.close(fd)
            throw ProtocolTestClientError.system("connect", failure)
        }
        return fd
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    // MARK: Sending

    func takeRequestID() -> UInt32 {
        defer { nextRequestID = nextRequestID == UInt32.max ? 1 : nextRequestID + 1 }
        return nextRequestID
    }

    /// Writes `bytes` whole (blocking).
    func sendRaw(_ bytes: [UInt8]) throws {
        try ProtocolTestClient.writeAll(fd, bytes)
    }

    /// Writes `bytes` whole to the blocking socket `fd`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw ProtocolTestClientError.system("send", errno)
            }
            offset += written
        }
    }

    /// Sends `frame` with a fresh request ID (or `requestID`); returns the ID.
    @discardableResult
    func send(_ frame: Frame, requestID: UInt32? = nil) throws -> UInt32 {
        let id = requestID ?? (frame.type == .goodbye ? 0 : takeRequestID())
        try sendRaw(FrameEncoder.encode(frame, requestID: id))
        return id
    }

    // MARK: Receiving

    /// Reads what is available within `timeout` seconds into the inbox. Returns false on timeout.
    @discardableResult
    func pump(timeout: Double) throws -> Bool {
        guard !peerClosed else { return false }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(max(0, timeout * 1000)))
        if ready < 0 && errno != EINTR { throw ProtocolTestClientError.system("poll", errno) }
        guard ready > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count == 0 || (count < 0 && (errno == ECONNRESET || errno == EPIPE)) {
            peerClosed = true
            return true
        }
        if count < 0 { throw ProtocolTestClientError.system("recv", errno) }
        decoder.append(buffer[0 ..< count])
        do {
            while let frame = try decoder.next() { inbox.append(frame) }
        } catch {
            throw ProtocolTestClientError.protocolError(error)
        }
        return true
    }

    /// Drops every frame received so far.
    func discardInbox() { inbox.removeAll() }

    /// The first inbox frame matching `predicate`, waiting up to `timeout` seconds.
    func take(_ what: String, timeout: Double = ProtocolTestClient.replyTimeout, where predicate: (DecodedFrame) -> Bool) throws -> DecodedFrame {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let index = inbox.firstIndex(where: predicate) { return inbox.remove(at: index) }
            if peerClosed { throw ProtocolTestClientError.closed(what) }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw ProtocolTestClientError.timeout(what) }
            try pump(timeout: min(remaining, 0.5))
        }
    }

    /// The reply to `requestID`.
    func reply(to requestID: UInt32, timeout: Double = ProtocolTestClient.replyTimeout) throws -> Frame {
        try take("reply to request \(requestID)", timeout: timeout) { $0.requestID == requestID && $0.frame.type != .goodbye }.frame
    }

    /// Sends `frame` and waits for its reply.
    func request(_ frame: Frame, timeout: Double = ProtocolTestClient.replyTimeout) throws -> Frame {
        try reply(to: send(frame), timeout: timeout)
    }

    /// The next unsolicited frame with request ID 0 (NOTIFY, GOODBYE, a connection ERROR).
    func unsolicited(timeout: Double = ProtocolTestClient.replyTimeout) throws -> Frame {
        try take("an unsolicited frame", timeout: timeout) { $0.requestID == 0 }.frame
    }

    /// Waits for a NOTIFY with `newestSeq >= seq`, dropping older NOTIFYs.
    func waitForNotify(atLeast seq: UInt32, timeout: Double = ProtocolTestClient.replyTimeout) throws -> Frame.Notify {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let frame = try take("NOTIFY >= \(seq)", timeout: max(0, deadline.timeIntervalSinceNow)) {
                if case .notify = $0.frame { true } else { false }
            }
            if case .notify(let notify) = frame.frame, notify.newestSeq >= seq { return notify }
        }
    }

    /// Waits up to `timeout` seconds for the server to close the connection; returns whether it did.
    func waitForClose(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !peerClosed && deadline.timeIntervalSinceNow > 0 {
            do { try pump(timeout: min(deadline.timeIntervalSinceNow, 0.5)) } catch { return true }
        }
        return peerClosed
    }

    // MARK: Session helpers

    /// HELLO → HELLO_OK.
    @discardableResult
    func hello(versionMin: UInt16 = 1, versionMax: UInt16 = 1) throws -> Frame {
        let reply = try request(.hello(Frame.Hello(versionMin: versionMin, versionMax: versionMax)))
        if case .helloOK(let ok) = reply { helloOK = ok }
        return reply
    }

    /// LOGIN → LOGIN_OK or ERROR.
    func login(user: UInt64, device: UInt64, token: [UInt8], fullHistory: Bool = false) throws -> Frame {
        try request(.login(Frame.Login(user: user, device: device, fullHistory: fullHistory, token: token)))
    }

    /// PULLs until `hasMore` is clear, from `after`; returns every record, in order.
    func pullAll(after: UInt32, epoch: UInt32 = 0, limit: UInt16 = 256, pagesMax: Int = 10_000) throws -> [PullRecord] {
        var records: [PullRecord] = []
        var held = after
        for _ in 0 ..< pagesMax {
            let reply = try request(.pull(Frame.Pull(after: held, epoch: epoch, limit: limit)))
            guard case .pullOK(let page) = reply else { throw ProtocolTestClientError.unexpected("\(reply) to PULL after \(held)") }
            records += page.records
            held = page.records.last?.seq ?? held
            if !page.hasMore { return records }
        }
        throw ProtocolTestClientError.unexpected("more than \(pagesMax) pages")
    }
}

/// Sends `frame` and expects an ERROR: returns it.
func expectError(_ reply: Frame) -> Frame.ErrorReport? {
    if case .error(let report) = reply { report } else { nil }
}
