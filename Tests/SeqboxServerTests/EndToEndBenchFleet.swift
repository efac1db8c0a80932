#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxProtocol
import SeqboxServer
import SeqboxStore
import SeqboxSystem

/// Many client connections driven by one thread over epoll, for the end-to-end benchmark:
/// paced (open-loop) or saturating SENDs from half of them, NOTIFY latency measured on the
/// other half. Each sender user sends only to its paired recipient user, so the recipient's
/// k-th new message has seq `base + k` and a NOTIFY(n) tells exactly which sends it covers.
final class BenchFleet {
    final class Connection {
        let fd: Int32
        let user: UInt64
        var decoder = FrameDecoder(receiver: .client)
        var output: [UInt8] = []
        var nextRequestID: UInt32 = 1
        var nextClientMessageID: UInt64 = 1
        var inFlight = 0
        /// Recipient side: newest seq at login, send times of the messages sent to it (in order,
        /// monotonic nanoseconds), and how many of them a NOTIFY has covered.
        var baseSeq: UInt32 = 0
        var sendTimes: [UInt64] = []
        var notified = 0
        /// Sender side: the paired recipient.
        var peer: Int = -1

        init(fd: Int32, user: UInt64) {
            self.fd = fd
            self.user = user
        }

        func takeRequestID() -> UInt32 {
            defer { nextRequestID = nextRequestID == UInt32.max ? 1 : nextRequestID + 1 }
            return nextRequestID
        }
    }

    /// What a run measured.
    struct Report {
        var sent = 0
        var acknowledged = 0
        var errors = 0
        var latenciesMicroseconds: [UInt32] = []
        var seconds: Double = 0

        func percentile(_ fraction: Double) -> UInt32 {
            guard !latenciesMicroseconds.isEmpty else { return 0 }
            let sorted = latenciesMicroseconds.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
        }
    }

    let port: UInt16
    private(set) var connections: [Connection] = []
    private let epoll: Epoll
    private let events = EpollEventBuffer(capacity: 1024)
    private var receiveBuffer = [UInt8](repeating: 0, count: 256 << 10)
    private var report = Report()
    /// SEND bodies: `bodyPoolSize` pseudo-random printable texts of the same size, drawn from a
    /// fixed seed (so LZ4 gains little, as with real chat text, and runs are comparable).
    private let bodies: [[UInt8]]
    private var nextBody = 0
    static let bodyPoolSize = 256

    init(port: UInt16, bodySize: Int = 150, seed: UInt64 = 0x5345_5142_4F58_0002) throws {
        self.port = port
        var generator = SplitMix64(seed: seed)
        bodies = (0 ..< BenchFleet.bodyPoolSize).map { _ in
            (0 ..< bodySize).map { _ in UInt8(32 + generator.next() % 95) }
        }
        self.epoll = try Epoll.create()
    }

    deinit {
        closeAll()
        epoll.close()
    }

    func closeAll() {
        for connection in connections { Glibc.close(connection.fd) }
        connections = []
    }

    // MARK: Connecting

    /// Opens `count` connections logged in as users `firstUser`, `firstUser + 1`, …
    /// (HELLO and LOGIN pipelined, then LOGIN_OK awaited), in chunks to respect the backlog.
    func open(count: Int, firstUser: UInt64, chunk: Int = 256) throws {
        var opened = 0
        while opened < count {
            let batch = min(chunk, count - opened)
            var fresh: [Connection] = []
            for index in 0 ..< batch {
                let user = firstUser + UInt64(opened + index)
                let fd = try ProtocolTestClient.connectedSocket(port: port)
                let connection = Connection(fd: fd, user: user)
                let token = ServerProcess.token(user: user, device: 1)
                var bytes = FrameEncoder.encode(.hello(Frame.Hello()), requestID: connection.takeRequestID())
                FrameEncoder.encode(.login(Frame.Login(user: user, device: 1, token: token)), requestID: connection.takeRequestID(), into: &bytes)
                try ProtocolTestClient.writeAll(fd, bytes)
                fresh.append(connection)
            }
            for connection in fresh {
                try awaitLoginOK(connection)
                _ = fcntl(connection.fd, F_SETFL, fcntl(connection.fd, F_GETFL) | O_NONBLOCK)
                try epoll.add(connection.fd, events: .readable, data: UInt64(connections.count))
                connections.append(connection)
            }
            opened += batch
        }
    }

    private func awaitLoginOK(_ connection: Connection) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            var descriptor = pollfd(fd: connection.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 1000) > 0 else { continue }
            let count = receiveBuffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw ProtocolTestClientError.closed("LOGIN_OK of user \(connection.user)") }
            receiveBuffer.withUnsafeBytes { connection.decoder.append(UnsafeRawBufferPointer(rebasing: $0[0 ..< count])) }
            while let frame = try connection.decoder.next() {
                switch frame.frame {
                case .helloOK: continue
                case .loginOK(let ok):
                    connection.baseSeq = ok.newestSeq
                    return
                default: throw ProtocolTestClientError.unexpected("\(frame.frame) during login of \(connection.user)")
                }
            }
        }
        throw ProtocolTestClientError.timeout("LOGIN_OK of user \(connection.user)")
    }

    /// Pairs connection i (sender) with connection i + half (recipient).
    func pairHalves() {
        let half = connections.count / 2
        for index in 0 ..< half { connections[index].peer = index + half }
    }

    // MARK: Running

    /// Sends at `ratePerSecond` in total (round-robin over the senders) for `seconds`, then
    /// waits up to `drainSeconds` for the last replies and NOTIFYs.
    func runPaced(ratePerSecond: Double, seconds: Double, drainSeconds: Double = 5) throws -> Report {
        report = Report()
        let senders = connections.filter { $0.peer >= 0 }
        let started = monotonicNanoseconds()
        let end = started + UInt64(seconds * 1e9)
        var next = 0
        while true {
            let now = monotonicNanoseconds()
            if now >= end { break }
            let due = Int(Double(now - started) / 1e9 * ratePerSecond) - report.sent
            var touched: Set<Int> = []
            for _ in 0 ..< max(0, due) {
                let index = next % senders.count
                next += 1
                enqueueSend(from: senders[index], at: now)
                touched.insert(index)
            }
            for index in touched { try flush(senders[index]) }
            try pump(timeoutMs: 1)
        }
        report.seconds = Double(monotonicNanoseconds() - started) / 1e9
        try drain(seconds: drainSeconds)
        return report
    }

    /// Keeps `window` SENDs in flight on every sender for `seconds` (saturation).
    func runSaturated(window: Int, seconds: Double, drainSeconds: Double = 5) throws -> Report {
        report = Report()
        let senders = connections.filter { $0.peer >= 0 }
        let started = monotonicNanoseconds()
        let end = started + UInt64(seconds * 1e9)
        saturationWindow = window
        for sender in senders {
            while sender.inFlight < window { enqueueSend(from: sender, at: started) }
            try flush(sender)
        }
        while monotonicNanoseconds() < end { try pump(timeoutMs: 5) }
        report.seconds = Double(monotonicNanoseconds() - started) / 1e9
        saturationWindow = 0
        let acknowledgedInWindow = report.acknowledged
        try drain(seconds: drainSeconds)
        report.acknowledged = acknowledgedInWindow
        return report
    }

    private var saturationWindow = 0

    private func enqueueSend(from sender: Connection, at now: UInt64) {
        let recipient = connections[sender.peer]
        let body = bodies[nextBody]
        nextBody = (nextBody + 1) % bodies.count
        FrameEncoder.encode(.send(Frame.Send(to: recipient.user, clientMessageID: sender.nextClientMessageID, body: body)),
                            requestID: sender.takeRequestID(), into: &sender.output)
        sender.nextClientMessageID += 1
        sender.inFlight += 1
        recipient.sendTimes.append(now)
        report.sent += 1
    }

    private func flush(_ connection: Connection) throws {
        guard !connection.output.isEmpty else { return }
        let written = connection.output.withUnsafeBytes { Glibc.send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if written < 0 {
            if errno == EAGAIN { return }
            throw ProtocolTestClientError.system("send", errno)
        }
        connection.output.removeFirst(written)
    }

    /// Waits until every send is answered and every recipient notified, or `seconds` pass.
    private func drain(seconds: Double) throws {
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        while monotonicNanoseconds() < deadline {
            let pending = connections.contains { $0.inFlight > 0 || !$0.output.isEmpty || $0.notified < $0.sendTimes.count }
            if !pending { return }
            for connection in connections where !connection.output.isEmpty { try flush(connection) }
            try pump(timeoutMs: 5)
        }
    }

    /// One epoll wait; reads and handles every ready connection.
    private func pump(timeoutMs: Int32) throws {
        let ready = try epoll.wait(into: events, timeoutMs: timeoutMs)
        let now = monotonicNanoseconds()
        for slot in 0 ..< ready {
            let connection = connections[Int(events.data(at: slot))]
            while true {
                let count = receiveBuffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
                if count < 0 && errno == EAGAIN { break }
                guard count > 0 else { throw ProtocolTestClientError.closed("bench connection of user \(connection.user)") }
                receiveBuffer.withUnsafeBytes { connection.decoder.append(UnsafeRawBufferPointer(rebasing: $0[0 ..< count])) }
                while let frame = try connection.decoder.next() { try handle(frame, on: connection, at: now) }
                if count < receiveBuffer.count { break }
            }
        }
    }

    private func handle(_ frame: DecodedFrame, on connection: Connection, at now: UInt64) throws {
        switch frame.frame {
        case .sendOK:
            connection.inFlight -= 1
            report.acknowledged += 1
            if saturationWindow > 0 {
                enqueueSend(from: connection, at: now)
                try flush(connection)
            }
        case .error(let error):
            connection.inFlight -= 1
            report.errors += 1
            if report.errors <= 3 { print("bench: ERROR \(error.code) \(error.message)") }
        case .notify(let notify):
            let covered = min(Int(notify.newestSeq) - Int(connection.baseSeq), connection.sendTimes.count)
            while connection.notified < covered {
                let latency = (now - connection.sendTimes[connection.notified]) / 1000
                report.latenciesMicroseconds.append(UInt32(min(latency, UInt64(UInt32.max))))
                connection.notified += 1
            }
        default:
            break
        }
    }
}

/// Resident memory of process `pid` in bytes (VmRSS), from /proc.
func residentBytes(pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let digits = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        return digits.map { $0 * 1024 }
    }
    return nil
}

/// CPU seconds (user + system) process `pid` has used, from /proc/PID/stat.
func cpuSeconds(pid: Int32) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Busy and total CPU time of the whole machine, from /proc/stat (clock ticks).
func machineTicks() -> (busy: Double, total: Double) {
    guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
          let line = stat.split(separator: "\n").first else { return (0, 0) }
    let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard values.count >= 5 else { return (0, 0) }
    let total = values.prefix(8).reduce(0, +)
    return (total - values[3] - values[4], total)
}
