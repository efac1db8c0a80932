#if canImport(Glibc)
import Glibc
#endif
import SeqboxSystem

/// One load-generator thread: an epoll loop over its pairs' sender and recipient sockets
/// (non-blocking), sending open-loop on a fixed schedule and reading replies as they come.
///
/// Schedule: in a phase at offered rate R, this thread's share R·pairs/allPairs is spread
/// evenly: message l is due at start + l·interval and goes to sender l mod pairs, so each
/// sender sends at the same steady rate. A message's scheduled time is its identity on the
/// wire, and every latency is measured from it: when the server stalls, the sends still go
/// out on time and the stall shows in the latencies (no coordinated omission). Each turn of
/// the loop writes everything due, then every connection with output gets one send(2) with
/// all its queued frames (batched writes), then epoll waits until the next message is due.
final class LoadLoop<Client: LoadClient>: @unchecked Sendable {
    /// Bytes one recv(2) may take.
    static var readBufferSize: Int { 256 << 10 }
    /// Longest wait when nothing is due (orders arrive through the eventfd anyway).
    static var idleWaitNs: UInt64 { 5_000_000 }
    /// Shortest wait when a message is due soon: sends due within it go out together, so a
    /// high rate costs fewer wake-ups (the lateness this adds is measured as `sendLag`).
    static var batchingWaitNs: UInt64 { 40_000 }
    /// How often live counts are published for the driving thread.
    static var publishIntervalNs: UInt64 { 2_000_000 }
    /// Reads per readable event before moving on (level-triggered: the rest comes next turn).
    static var readsPerEvent: Int { 4 }
    private static var wakeToken: UInt64 { UInt64.max }

    let control: LoopControl
    private let poller: LoadPoller
    private let client: Client
    private let recorder = LoadRecorder()
    private let senders: [LoadConnection]
    private let recipients: [LoadConnection]
    private let connections: [LoadConnection]
    /// This thread's fraction of the offered rate.
    let share: Double
    private let outstandingMax: Int
    private let payloads: [[UInt8]]
    private var payloadCursor: Int
    private var flushQueue: [LoadConnection] = []
    private let readBuffer: UnsafeMutableRawBufferPointer

    private var generating: LoadPhase?
    private var generated = 0
    private var dueTotal = 0
    private var intervalNs = 0.0
    private var nextPublish: UInt64 = 0

    /// A thread over `pairs` (sender and recipient sockets, already logged in and
    /// non-blocking) with `share` of the offered rate.
    init(pairs: [(sender: Int32, recipient: Int32)], client: Client, share: Double, outstandingMax: Int,
         payloads: [[UInt8]], payloadOffset: Int) throws {
        precondition(!pairs.isEmpty && share > 0 && outstandingMax >= 1 && !payloads.isEmpty)
        control = try LoopControl()
        poller = try LoadPoller()
        self.client = client
        self.share = share
        self.outstandingMax = outstandingMax
        self.payloads = payloads
        payloadCursor = payloadOffset % payloads.count
        senders = pairs.enumerated().map { LoadConnection(fd: $0.element.sender, pair: $0.offset, role: .sender) }
        recipients = pairs.enumerated().map { LoadConnection(fd: $0.element.recipient, pair: $0.offset, role: .recipient) }
        connections = senders + recipients
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        for (index, connection) in connections.enumerated() {
            try poller.add(connection.fd, events: .readable, data: UInt64(index))
        }
        try poller.add(control.wake.rawValue, events: .readable, data: Self.wakeToken)
        for recipient in recipients {
            client.startRecipient(pair: recipient.pair, into: recipient.output)
            queueFlush(recipient)
        }
    }

    deinit { readBuffer.deallocate() }

    /// Messages due in `phase` for a thread with `share`: those at start + l·interval < end.
    static func dueCount(of phase: LoadPhase, share: Double) -> Int {
        let interval = 1e9 / (phase.ratePerSecond * share)
        return Int((Double(phase.endNs - phase.startNs) / interval).rounded(.up))
    }

    /// The thread body: runs until told to stop or a connection fails.
    func run() {
        do {
            try loop()
        } catch {
            control.fail("load thread: \(error)")
        }
    }

    private func loop() throws {
        var ordersPending = true
        while true {
            if ordersPending {
                ordersPending = false
                let orders = control.takeOrders(knownPhases: recorder.phases.count)
                if orders.stop { return }
                for phase in orders.phases { begin(phase) }
                for index in orders.snapshots where index < recorder.tallies.count {
                    control.deliver(recorder.tallies[index], of: index)
                }
            }
            let now = Clock.nanoseconds()
            generateDue(now: now)
            try flushQueued()
            if now >= nextPublish {
                control.publish(recorder.allCounts)
                nextPublish = now + Self.publishIntervalNs
            }

            var timeout = Self.idleWaitNs
            if let phase = generating {
                let next = phase.startNs + UInt64(Double(generated) * intervalNs)
                timeout = next > now ? min(timeout, max(next - now, Self.batchingWaitNs)) : 0
            }
            let ready = try poller.wait(timeoutNanoseconds: timeout)
            for slot in 0 ..< ready {
                let token = poller.data(at: slot)
                if token == Self.wakeToken {
                    ordersPending = true
                    continue
                }
                let connection = connections[Int(token)]
                let readiness = poller.readiness(at: slot)
                if readiness & EpollEvents.writable.rawValue != 0 { try flush(connection) }
                if readiness & (EpollEvents.readable.rawValue | EpollEvents.error.rawValue | EpollEvents.hangUp.rawValue) != 0 {
                    // Each read gets its own time: a busy turn must not date late replies early.
                    try read(connection, now: Clock.nanoseconds())
                }
            }
        }
    }

    // MARK: Sending

    private func begin(_ phase: LoadPhase) {
        recorder.begin(phase)
        generating = phase
        generated = 0
        dueTotal = Self.dueCount(of: phase, share: share)
        intervalNs = 1e9 / (phase.ratePerSecond * share)
    }

    /// Writes every message due by `now` into its sender's output.
    private func generateDue(now: UInt64) {
        guard let phase = generating else { return }
        while generated < dueTotal {
            // Capped inside the window: rounding must not push the last message out of it.
            let scheduled = min(phase.startNs + UInt64(Double(generated) * intervalNs), phase.endNs - 1)
            if scheduled > now { break }
            let sender = senders[generated % senders.count]
            generated += 1
            recorder.scheduled(phase: phase.index)
            if sender.window.outstanding >= outstandingMax {
                recorder.skipped(phase: phase.index)
                continue
            }
            let requestIndex = sender.window.push(scheduled)
            payloads[payloadCursor].withUnsafeBytes { payload in
                client.appendSend(pair: sender.pair, requestIndex: requestIndex, scheduled: scheduled, payload: payload, into: sender.output)
            }
            payloadCursor += 1
            if payloadCursor == payloads.count { payloadCursor = 0 }
            recorder.sent(phase: phase.index, lag: now - scheduled)
            queueFlush(sender)
        }
        if generated == dueTotal { generating = nil }
    }

    @inline(__always)
    private func queueFlush(_ connection: LoadConnection) {
        if !connection.flushQueued && !connection.waitingForWritable {
            connection.flushQueued = true
            flushQueue.append(connection)
        }
    }

    private func flushQueued() throws {
        for connection in flushQueue {
            connection.flushQueued = false
            try flush(connection)
        }
        flushQueue.removeAll(keepingCapacity: true)
    }

    /// One send(2) of everything queued on `connection`; what the kernel does not take waits
    /// for writability.
    private func flush(_ connection: LoadConnection) throws {
        let output = connection.output
        if !output.isEmpty {
            let written = send(connection.fd, output.readable.baseAddress, output.count, Int32(MSG_NOSIGNAL))
            if written > 0 {
                output.consume(written)
            } else if written < 0 && errno != EAGAIN && errno != EINTR {
                throw BenchError("send on \(connection.role) \(connection.pair): \(String(cString: strerror(errno)))")
            }
        }
        let wantWritable = !output.isEmpty
        if wantWritable != connection.waitingForWritable {
            connection.waitingForWritable = wantWritable
            let index = connection.role == .sender ? connection.pair : senders.count + connection.pair
            try poller.modify(connection.fd, events: wantWritable ? [.readable, .writable] : .readable, data: UInt64(index))
        }
    }

    // MARK: Receiving

    private func read(_ connection: LoadConnection, now: UInt64) throws {
        for _ in 0 ..< Self.readsPerEvent {
            let count = recv(connection.fd, readBuffer.baseAddress, readBuffer.count, 0)
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { return }
                throw BenchError("recv on \(connection.role) \(connection.pair): \(String(cString: strerror(errno)))")
            }
            if count == 0 { throw BenchError("the server closed the \(connection.role) connection of pair \(connection.pair)") }
            let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0 ..< count])
            if connection.input.isEmpty {
                let consumed = try client.receive(bytes, on: connection, now: now, recorder: recorder)
                if consumed < count { connection.input.append(UnsafeRawBufferPointer(rebasing: bytes[consumed...])) }
            } else {
                connection.input.append(bytes)
                let consumed = try client.receive(connection.input.readable, on: connection, now: now, recorder: recorder)
                connection.input.consume(consumed)
            }
            if !connection.output.isEmpty { queueFlush(connection) }
            if count < readBuffer.count { return }
        }
    }
}
