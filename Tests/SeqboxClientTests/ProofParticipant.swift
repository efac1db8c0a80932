import SeqboxClient
import Synchronization

/// One of the proof's clients: a `MailboxClient` and everything it reported, recorded in order.
final class ProofParticipant: Sendable {
    /// What the client reported.
    struct Record: Sendable {
        var delivered: [InboxMessage] = []
        var receipts: [UInt64: [SendReceipt]] = [:]
        var failures: [SendFailure] = []
        var gaps: [SeqGap] = []
        var epochChanges: [ClientEvent] = []
        var stops: [StopReason] = []
        var disconnects: [DisconnectReason] = []
        var receiptCount = 0
        var incomingCount = 0
        var outgoingCount = 0
    }

    /// A message this participant sent: its ID, recipient and index in the run.
    struct Sent: Sendable {
        var id: UInt64
        var recipient: UInt64
        var index: Int
    }

    let user: UInt64
    let record = Mutex(Record())
    let sent = Mutex<[Sent]>([])
    private let clientBox = Mutex<MailboxClient?>(nil)

    init(user: UInt64) { self.user = user }

    var client: MailboxClient { clientBox.withLock { $0! } }

    /// Messages left unanswered in the client's outbox (0 without a client).
    var outboxCount: Int { clientBox.withLock { $0?.outboxCount ?? 0 } }

    /// Creates the client (not started) with a state file at `statePath`.
    func makeClient(configuration: ClientConfiguration, statePath: String) throws {
        let client = try MailboxClient(configuration: configuration, stateFile: statePath) { [self] event in
            record.withLock { record in
                switch event {
                case .messages(let messages):
                    record.delivered += messages
                    for message in messages {
                        if message.outgoing { record.outgoingCount += 1 } else { record.incomingCount += 1 }
                    }
                case .sent(let receipt):
                    record.receipts[receipt.clientMessageID, default: []].append(receipt)
                    record.receiptCount += 1
                case .sendFailed(let failure): record.failures.append(failure)
                case .gap(let gap): record.gaps.append(gap)
                case .epochChanged: record.epochChanges.append(event)
                case .stopped(let reason): record.stops.append(reason)
                case .disconnected(let reason, _): record.disconnects.append(reason)
                default: break
                }
            }
        }
        clientBox.withLock { $0 = client }
    }

    /// The body of the `index`-th message of `sender`: who and which, so a recipient can check it.
    static func body(sender: UInt64, index: Int) -> String { "s\(sender)#\(index)" }

    /// Parses `body(sender:index:)`.
    static func parse(_ text: String) -> (sender: UInt64, index: Int)? {
        guard text.hasPrefix("s"), let hash = text.firstIndex(of: "#"),
              let sender = UInt64(text[text.index(after: text.startIndex) ..< hash]),
              let index = Int(text[text.index(after: hash)...]) else { return nil }
        return (sender, index)
    }

    func send(to recipient: UInt64, index: Int) throws {
        let id = try client.send(to: recipient, text: ProofParticipant.body(sender: user, index: index))
        sent.withLock { $0.append(Sent(id: id, recipient: recipient, index: index)) }
    }
}
