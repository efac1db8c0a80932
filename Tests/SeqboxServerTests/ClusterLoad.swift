import Dispatch
import Foundation
import SeqboxProtocol
@testable import SeqboxServer
import Synchronization

/// Senders through a gateway, each on its own thread and connection, keeping a window of
/// pipelined SENDs to a rotation of recipients, as a client library would: a SEND refused with
/// `unavailable` or `overloaded` is resent later with the same client message ID, until
/// acknowledged. Records every SEND_OK (and whether it came on the first attempt) and every
/// refusal with its latency, so a test can check the outage behaviour and, afterwards, that each
/// acknowledged message is stored exactly once.
final class ClusterLoad: Sendable {
    /// One acknowledged message.
    struct Acknowledged: Hashable, Sendable {
        var sender: UInt64
        var recipient: UInt64
        var clientMessageID: UInt64
        var seq: UInt32
        var outgoingSeq: UInt32
        /// Acknowledged on its first attempt (not a resend).
        var firstAttempt: Bool
        /// Monotonic seconds of the SEND_OK.
        var at: Double
    }

    /// One refused attempt.
    struct Refusal: Sendable {
        var code: ErrorCode
        var sender: UInt64
        var recipient: UInt64
        /// Monotonic seconds the SEND was written, and how long its answer took.
        var sentAt: Double
        var latency: Double
    }

    /// What one sender saw.
    struct SenderOutcome: Sendable {
        var acknowledged: [Acknowledged] = []
        var refusals: [Refusal] = []
        /// Messages never acknowledged by the end (the drain deadline passed).
        var unacknowledged = 0
        var failure: String?
    }

    /// SENDs in flight per sender.
    static let window = 8
    /// Pause before resending after a refusal (a client honours retryAfterMs; shorter here).
    static let resendDelay = 0.1

    let senders: [UInt64]
    let recipients: [UInt64]
    private let port: UInt16
    private let stopFlag = Atomic<Bool>(false)
    private let acknowledgedSoFar = Atomic<Int>(0)
    private let outcomes = PthreadLocked<[UInt64: SenderOutcome]>([:])
    private let group = DispatchGroup()
    private let drainSeconds: Double

    init(port: UInt16, senders: [UInt64], recipients: [UInt64], drainSeconds: Double = 20) {
        self.port = port
        self.senders = senders
        self.recipients = recipients
        self.drainSeconds = drainSeconds
    }

    /// SEND_OKs received so far, by all senders.
    var acknowledgedCount: Int { acknowledgedSoFar.load(ordering: .relaxed) }

    /// Monotonic seconds.
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    func start() {
        for sender in senders {
            group.enter()
            Thread.detachNewThread { [self] in
                let outcome = run(sender: sender)
                outcomes.withLock { $0[sender] = outcome }
                group.leave()
            }
        }
    }

    /// Stops new messages; the senders resend what is unacknowledged until done or the drain
    /// deadline; waits for them.
    func stopAndWait(timeout: Double = 60) -> [UInt64: SenderOutcome] {
        stopFlag.store(true, ordering: .relaxed)
        _ = group.wait(timeout: .now() + timeout)
        return outcomes.withLock { $0 }
    }

    private struct Message {
        var recipient: UInt64
        var id: UInt64
        var attempts: Int
        var sentAt: Double
    }

    private func run(sender: UInt64) -> SenderOutcome {
        var outcome = SenderOutcome()
        do {
            let client = try ProtocolTestClient.connect(port: port)
            guard case .helloOK = try client.hello(),
                  case .loginOK = try client.login(user: sender, device: 1, token: ServerProcess.token(user: sender, device: 1)) else {
                outcome.failure = "login failed"
                return outcome
            }
            var nextID: UInt64 = 1
            var pending: [UInt32: Message] = [:]
            var resend: [(Message, notBefore: Double)] = []
            var drainDeadline = Double.infinity
            var pausedUntil = 0.0
            while true {
                let stopping = stopFlag.load(ordering: .relaxed)
                if stopping && drainDeadline == .infinity { drainDeadline = ClusterLoad.now() + drainSeconds }
                if pending.isEmpty && (resend.isEmpty || ClusterLoad.now() > drainDeadline) && stopping { break }
                let now = ClusterLoad.now()
                // After a refusal the sender sends nothing for a while (bounded load during an outage).
                while now >= pausedUntil && pending.count < ClusterLoad.window, let index = resend.firstIndex(where: { $0.notBefore <= now }) {
                    var message = resend.remove(at: index).0
                    message.attempts += 1
                    message.sentAt = now
                    pending[try client.send(.send(Frame.Send(to: message.recipient, clientMessageID: message.id, body: body(sender, message.id))))] = message
                }
                while !stopping && now >= pausedUntil && pending.count < ClusterLoad.window {
                    let recipient = recipients[Int((nextID &+ sender) % UInt64(recipients.count))]
                    let message = Message(recipient: recipient, id: nextID, attempts: 1, sentAt: now)
                    pending[try client.send(.send(Frame.Send(to: recipient, clientMessageID: nextID, body: body(sender, nextID))))] = message
                    nextID += 1
                }
                guard !pending.isEmpty else {
                    usleep(10_000)
                    continue
                }
                let frame = try client.take("a reply", timeout: 15) { $0.requestID != 0 }
                guard let message = pending.removeValue(forKey: frame.requestID) else { continue }
                let answeredAt = ClusterLoad.now()
                switch frame.frame {
                case .sendOK(let ok):
                    outcome.acknowledged.append(Acknowledged(sender: sender, recipient: message.recipient, clientMessageID: message.id, seq: ok.seq,
                                                             outgoingSeq: ok.outgoingSeq, firstAttempt: message.attempts == 1, at: answeredAt))
                    acknowledgedSoFar.add(1, ordering: .relaxed)
                case .error(let report):
                    outcome.refusals.append(Refusal(code: report.code, sender: sender, recipient: message.recipient, sentAt: message.sentAt,
                                                    latency: answeredAt - message.sentAt))
                    guard report.code == .unavailable || report.code == .overloaded else {
                        outcome.failure = "SEND refused with \(report.code): \(report.message)"
                        return outcome
                    }
                    resend.append((message, answeredAt + ClusterLoad.resendDelay))
                    pausedUntil = answeredAt + ClusterLoad.resendDelay
                default:
                    outcome.failure = "unexpected \(frame.frame.type)"
                    return outcome
                }
            }
            outcome.unacknowledged = resend.count
            client.close()
        } catch {
            outcome.failure = "\(error)"
        }
        return outcome
    }

    private func body(_ sender: UInt64, _ id: UInt64) -> [UInt8] { Array("\(sender):\(id)".utf8) }
}
