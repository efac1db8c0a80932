#if canImport(Glibc)
import Glibc
#endif

/// One proxied connection, run on its own thread until both sides close, the fault plan ends
/// it, or the proxy's time is up.
struct ProxyConnection {
    /// Bytes read per call.
    static let readChunkSize = 16 << 10
    /// How long to connect to the server before resetting the client.
    static let upstreamConnectTimeoutMs: Int32 = 2_000
    /// A connection condemned to reset is reset after this long even if its last bytes could
    /// not be delivered.
    static let resetGraceMs: UInt64 = 2_000

    let client: Int32
    let options: ProxyOptions
    let plan: FaultPlan
    let stats: ProxyStats
    let endsAt: UInt64
    var random: SplitMix64

    private enum Mode { case forwarding, resetting(since: UInt64), blackholed }

    /// Serves the connection; closes both sockets before returning.
    mutating func run() {
        let acceptedAt = ProxySocket.nowMs()
        guard let upstream = ProxySocket.connect(host: options.upstreamHost, port: options.upstreamPort,
                                                 timeoutMs: ProxyConnection.upstreamConnectTimeoutMs) else {
            stats.add(.upstreamFailures)
            ProxySocket.reset(client)
            return
        }
        ProxySocket.setNonBlocking(client)
        if plan.bandwidthBytesPerSecond != nil { stats.add(.capped) }
        var directions = [ProxyDirection(source: client, destination: upstream), ProxyDirection(source: upstream, destination: client)]
        var mode = Mode.forwarding
        var forwarded: UInt64 = 0
        let faultAt = acceptedAt + plan.afterMs
        var buffer = [UInt8](repeating: 0, count: ProxyConnection.readChunkSize)

        func finish(reset: Bool) {
            if reset {
                ProxySocket.reset(client)
                ProxySocket.reset(upstream)
            } else {
                close(client)
                close(upstream)
            }
        }

        while true {
            let now = ProxySocket.nowMs()
            if now >= endsAt { return finish(reset: true) }
            if case .forwarding = mode, plan.fate != .survives, now >= faultAt {
                mode = strike(now: now, directions: &directions)
            }
            if case .resetting(let since) = mode, directions.allSatisfy(\.isDrained) || now >= since + ProxyConnection.resetGraceMs {
                return finish(reset: true)
            }
            if case .blackholed = mode {
                if !swallow(directions: directions, buffer: &buffer, now: now) { return finish(reset: false) }
                continue
            }
            for index in directions.indices {
                guard directions[index].writeDue(now: now, bandwidth: plan.bandwidthBytesPerSecond) != nil else {
                    return finish(reset: true)
                }
                if directions[index].isDrained, directions[index].sourceClosed, !directions[index].finForwarded {
                    shutdown(directions[index].destination, Int32(SHUT_WR))
                    directions[index].finForwarded = true
                }
            }
            if directions.allSatisfy(\.finForwarded) { return finish(reset: false) }
            if case .resetting = mode, directions.allSatisfy(\.isDrained) { return finish(reset: true) }

            var pollers: [pollfd] = []
            var readers: [Int] = []
            var deadline = endsAt
            if case .forwarding = mode, plan.fate != .survives { deadline = min(deadline, faultAt) }
            if case .resetting(let since) = mode { deadline = min(deadline, since + ProxyConnection.resetGraceMs) }
            for index in directions.indices {
                let direction = directions[index]
                if case .forwarding = mode, !direction.sourceClosed, direction.queuedBytes < ProxyDirection.queuedBytesMax {
                    pollers.append(pollfd(fd: direction.source, events: Int16(POLLIN), revents: 0))
                    readers.append(index)
                }
                if let due = direction.nextDueAt {
                    if due <= now {
                        pollers.append(pollfd(fd: direction.destination, events: Int16(POLLOUT), revents: 0))
                    } else {
                        deadline = min(deadline, due)
                    }
                }
            }
            let waitMs = Int32(clamping: deadline > now ? deadline - now : 0)
            let ready = poll(&pollers, nfds_t(pollers.count), waitMs)
            guard ready > 0 else { continue }
            for (position, index) in readers.enumerated() where pollers[position].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { recv(directions[index].source, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if count == 0 {
                    directions[index].sourceClosed = true
                    continue
                }
                if count < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                    return finish(reset: true)
                }
                var chunk = Array(buffer[0 ..< count])
                let readAt = ProxySocket.nowMs()
                if case .forwarding = mode, plan.fate != .survives, forwarded + UInt64(count) >= plan.afterBytes {
                    // Forward only the part before the trigger: the cut lands inside a frame.
                    chunk = Array(chunk[0 ..< Int(plan.afterBytes - forwarded)])
                    enqueue(chunk, into: &directions[index], now: readAt)
                    forwarded += UInt64(chunk.count)
                    mode = strike(now: readAt, directions: &directions)
                    break
                }
                enqueue(chunk, into: &directions[index], now: readAt)
                forwarded += UInt64(count)
                stats.add(.bytesForwarded, count)
            }
        }
    }

    /// Queues a chunk with latency, jitter and maybe a stall.
    private mutating func enqueue(_ chunk: [UInt8], into direction: inout ProxyDirection, now: UInt64) {
        var delay = options.latencyMs + random.upTo(options.jitterMs)
        if random.chance(options.stallRate) {
            delay += random.upTo(options.stallMsMax)
            stats.add(.stalls)
        }
        direction.enqueue(chunk, now: now, delayMs: delay)
    }

    /// The plan's fault strikes: reset once the queued bytes are out, or swallow everything.
    private func strike(now: UInt64, directions: inout [ProxyDirection]) -> Mode {
        switch plan.fate {
        case .reset:
            stats.add(.resets)
            return .resetting(since: now)
        case .blackhole:
            stats.add(.blackholes)
            for index in directions.indices { directions[index].discardQueue() }
            return .blackholed
        case .survives:
            return .forwarding
        }
    }

    /// A black-holed connection: read and drop whatever either side sends, send nothing, until
    /// the client gives up. Returns false once the client closed.
    private func swallow(directions: [ProxyDirection], buffer: inout [UInt8], now: UInt64) -> Bool {
        var pollers = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: directions[1].source, events: Int16(POLLIN), revents: 0)]
        let waitMs = Int32(clamping: endsAt > now ? endsAt - now : 0)
        guard poll(&pollers, 2, waitMs) > 0 else { return true }
        for (position, poller) in pollers.enumerated() where poller.revents != 0 {
            let count = buffer.withUnsafeMutableBytes { recv(poller.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if position == 0, count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) { return false }
            if position == 1, count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) {
                // The server side ended; keep the client in the dark until it gives up.
                pollers[1].fd = -1
                while true {
                    var single = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
                    let remaining = Int32(clamping: endsAt > ProxySocket.nowMs() ? endsAt - ProxySocket.nowMs() : 0)
                    guard remaining > 0, poll(&single, 1, remaining) > 0 else { return false }
                    let read = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                    if read == 0 || (read < 0 && errno != EAGAIN && errno != EINTR) { return false }
                }
            }
        }
        return true
    }
}
