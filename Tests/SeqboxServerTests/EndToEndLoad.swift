import Dispatch
import Foundation
import SeqboxProtocol
import Synchronization
@testable import SeqboxServer
import XCTest

/// Several senders, each on its own thread and connection, sending pipelined messages to a few
/// recipients until told to stop or their connection dies. Records every SEND_OK, so a test can
/// check after a crash or a shutdown that each acknowledged message is stored exactly once.
final class SendLoad: Sendable {
    /// One acknowledged message.
    struct Acknowledged: Hashable, Sendable {
        var sender: UInt64
        var recipient: UInt64
        var clientMessageID: UInt64
        var seq: UInt32
        var outgoingSeq: UInt32
    }

    /// What one sender saw.
    struct SenderOutcome: Sendable {
        var acknowledged: [Acknowledged] = []
        var unanswered = 0
        var refused: [ErrorCode] = []
        var goodbye: Frame.Goodbye?
        var failure: String?
    }

    static let window = 16

    let senders: [UInt64]
    let recipients: [UInt64]
    private let port: UInt16
    private let firstID: UInt64
    private let stopFlag = Atomic<Bool>(false)
    private let acknowledgedSoFar = Atomic<Int>(0)
    private let outcomes = PthreadLocked<[UInt64: SenderOutcome]>([:])
    private let group = DispatchGroup()

    init(port: UInt16, senders: [UInt64], recipients: [UInt64], firstID: UInt64) {
        self.port = port
        self.senders = senders
        self.recipients = recipients
        self.firstID = firstID
    }

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

    /// Asks the senders to stop and waits for them (at most `timeout` seconds).
    func stopAndWait(timeout: Double = 30) -> [UInt64: SenderOutcome] {
        stopFlag.store(true, ordering: .relaxed)
        return wait(timeout: timeout)
    }

    /// Waits for the senders to end on their own (connection gone).
    func wait(timeout: Double = 30) -> [UInt64: SenderOutcome] {
        _ = group.wait(timeout: .now() + timeout)
        return outcomes.withLock { $0 }
    }

    /// SEND_OKs received so far, by all senders.
    var acknowledgedCount: Int { acknowledgedSoFar.load(ordering: .relaxed) }

    private func run(sender: UInt64) -> SenderOutcome {
        var outcome = SenderOutcome()
        do {
            let client = try ProtocolTestClient.connect(port: port)
            guard case .helloOK = try client.hello(),
                  case .loginOK = try client.login(user: sender, device: 1, token: ServerProcess.token(user: sender, device: 1)) else {
                outcome.failure = "login failed"
                return outcome
            }
            var nextID = firstID
            var pending: [UInt32: (recipient: UInt64, id: UInt64)] = [:]
            while !stopFlag.load(ordering: .relaxed) || !pending.isEmpty {
                while !stopFlag.load(ordering: .relaxed) && pending.count < SendLoad.window {
                    let recipient = recipients[Int(nextID % UInt64(recipients.count))]
                    let requestID = try client.send(.send(Frame.Send(to: recipient, clientMessageID: nextID, body: Array("\(sender):\(nextID)".utf8))))
                    pending[requestID] = (recipient, nextID)
                    nextID += 1
                }
                let frame = try client.take("a reply", timeout: 10) { _ in true }
                if frame.requestID == 0 {
                    if case .goodbye(let goodbye) = frame.frame { outcome.goodbye = goodbye }
                    continue
                }
                guard let sent = pending.removeValue(forKey: frame.requestID) else { continue }
                switch frame.frame {
                case .sendOK(let ok):
                    outcome.acknowledged.append(Acknowledged(sender: sender, recipient: sent.recipient, clientMessageID: sent.id,
                                                             seq: ok.seq, outgoingSeq: ok.outgoingSeq))
                    acknowledgedSoFar.add(1, ordering: .relaxed)
                case .error(let report):
                    outcome.refused.append(report.code)
                default:
                    outcome.failure = "unexpected \(frame.frame.type)"
                }
            }
            client.close()
        } catch ProtocolTestClientError.closed {
            // The server went away (killed or shut down): what was acknowledged is the outcome.
        } catch {
            outcome.failure = "\(error)"
        }
        return outcome
    }
}

extension EndToEndTestCase {
    /// Every mailbox involved holds exactly the acknowledged messages (and possibly some that
    /// were stored but whose SEND_OK never arrived), each once, at the acknowledged seq, in
    /// send order per sender, seqs contiguous from 1, and both copies of every message.
    func assertMailboxesHold(_ acknowledged: [SendLoad.Acknowledged], senders: [UInt64], recipients: [UInt64],
                             file: StaticString = #filePath, line: UInt = #line) throws {
        var incoming: [UInt64: [PullRecord]] = [:]
        for user in recipients + senders {
            let (client, login) = try server.loggedIn(user: user, device: 99)
            let records = try client.pullAll(after: 0)
            XCTAssertEqual(records.map(\.seq), records.isEmpty ? [] : Array(1 ... UInt32(records.count)), "user \(user): seqs not contiguous", file: file, line: line)
            XCTAssertEqual(UInt32(records.count), login.newestSeq, file: file, line: line)
            incoming[user] = records
        }
        for user in recipients {
            let records = incoming[user]!
            let keys = records.map { "\($0.peer)/\($0.clientMessageID)" }
            XCTAssertEqual(Set(keys).count, keys.count, "user \(user) holds a message twice", file: file, line: line)
            for sender in senders {
                let ids = records.filter { $0.peer == sender }.map(\.clientMessageID)
                XCTAssertEqual(ids, ids.sorted(), "user \(user): messages of \(sender) out of order", file: file, line: line)
            }
        }
        // Index every stored message by (mailbox, peer, client message ID) once: O(n) checks.
        var stored: [String: [PullRecord]] = [:]
        for (user, records) in incoming {
            for record in records { stored["\(user)/\(record.peer)/\(record.clientMessageID)", default: []].append(record) }
        }
        for message in acknowledged {
            let received = stored["\(message.recipient)/\(message.sender)/\(message.clientMessageID)"] ?? []
            XCTAssertEqual(received.map(\.seq), [message.seq], "acknowledged \(message) not stored once at its seq", file: file, line: line)
            let copy = stored["\(message.sender)/\(message.recipient)/\(message.clientMessageID)"] ?? []
            XCTAssertEqual(copy.map(\.seq), [message.outgoingSeq], "outgoing copy of \(message)", file: file, line: line)
            XCTAssertEqual(copy.first?.outgoing, true, file: file, line: line)
        }
        // Both copies or neither, also for messages whose SEND_OK was lost with the server.
        let incomingCount = recipients.reduce(0) { $0 + incoming[$1]!.count }
        let outgoingCount = senders.reduce(0) { $0 + incoming[$1]!.filter(\.outgoing).count }
        XCTAssertEqual(incomingCount, outgoingCount, "a message is stored without its outgoing copy", file: file, line: line)
    }
}
