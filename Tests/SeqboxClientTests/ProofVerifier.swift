/// The proof's checks over what every participant sent and received: each recipient got every
/// message sent to it exactly once, in seq order with no hole, each conversation in the order it
/// was written, and every send got exactly one receipt whose seqs match what was delivered.
enum ProofVerifier {
    /// Every violation found (empty: the run kept the promise).
    static func violations(_ participants: [ProofParticipant]) -> [String] {
        var problems: [String] = []
        var sentTo: [UInt64: [(sender: UInt64, sent: ProofParticipant.Sent)]] = [:]
        var byUser: [UInt64: (record: ProofParticipant.Record, sent: [ProofParticipant.Sent])] = [:]
        for participant in participants {
            let sent = participant.sent.withLock { $0 }
            byUser[participant.user] = (participant.record.withLock { $0 }, sent)
            for message in sent { sentTo[message.recipient, default: []].append((participant.user, message)) }
        }
        for participant in participants {
            let user = participant.user
            let (record, sent) = byUser[user]!
            problems += checkStream(user: user, record: record)
            problems += checkIncoming(user: user, record: record, expected: sentTo[user] ?? [])
            problems += checkSends(user: user, record: record, sent: sent, recipients: byUser.mapValues(\.record))
            if participant.outboxCount != 0 { problems.append("user \(user): \(participant.outboxCount) messages left in the outbox") }
        }
        return problems
    }

    /// The delivered stream: seqs 1, 2, 3, … each once, no gaps or epoch changes, no stops.
    private static func checkStream(user: UInt64, record: ProofParticipant.Record) -> [String] {
        var problems: [String] = []
        for (position, message) in record.delivered.enumerated() where message.seq != UInt32(position + 1) {
            problems.append("user \(user): delivery #\(position + 1) has seq \(message.seq) (expected \(position + 1): a hole, a repeat or a reorder)")
            break
        }
        if !record.gaps.isEmpty { problems.append("user \(user): gaps reported \(record.gaps)") }
        if !record.epochChanges.isEmpty { problems.append("user \(user): epoch changes \(record.epochChanges)") }
        let unexpectedStops = record.stops.filter { $0 != .requested }
        if !unexpectedStops.isEmpty { problems.append("user \(user): stopped \(unexpectedStops)") }
        if !record.failures.isEmpty { problems.append("user \(user): \(record.failures.count) sends refused, first \(record.failures[0])") }
        return problems
    }

    /// Messages from others: exactly the ones sent to this user, once each, each sender's in the
    /// order written.
    private static func checkIncoming(user: UInt64, record: ProofParticipant.Record,
                                      expected: [(sender: UInt64, sent: ProofParticipant.Sent)]) -> [String] {
        var problems: [String] = []
        var seen: Set<[UInt64]> = []
        var lastIndex: [UInt64: Int] = [:]
        for message in record.delivered where !message.outgoing {
            guard seen.insert([message.peer, message.clientMessageID]).inserted else {
                problems.append("user \(user): message \(message.clientMessageID) from \(message.peer) delivered twice (seq \(message.seq))")
                continue
            }
            guard let (sender, index) = ProofParticipant.parse(message.text), sender == message.peer else {
                problems.append("user \(user): seq \(message.seq) has an unexpected body \(message.text)")
                continue
            }
            if let last = lastIndex[sender], last > index {
                problems.append("user \(user): from \(sender), #\(index) arrived after #\(last): conversation reordered")
            }
            lastIndex[sender] = index
        }
        let expectedKeys = Set(expected.map { [$0.sender, $0.sent.id] })
        let missing = expectedKeys.subtracting(seen)
        let extra = seen.subtracting(expectedKeys)
        if !missing.isEmpty { problems.append("user \(user): \(missing.count) messages sent to it never delivered, e.g. \(missing.first!)") }
        if !extra.isEmpty { problems.append("user \(user): \(extra.count) messages delivered that nobody sent, e.g. \(extra.first!)") }
        return problems
    }

    /// Its own sends: one receipt each, matching the recipient's seq and its own outgoing copy.
    private static func checkSends(user: UInt64, record: ProofParticipant.Record, sent: [ProofParticipant.Sent],
                                   recipients: [UInt64: ProofParticipant.Record]) -> [String] {
        var problems: [String] = []
        var copies: [UInt64: [UInt32]] = [:]
        for message in record.delivered where message.outgoing { copies[message.clientMessageID, default: []].append(message.seq) }
        for message in sent {
            let receipts = record.receipts[message.id] ?? []
            guard receipts.count == 1, let receipt = receipts.first else {
                problems.append("user \(user): message #\(message.index) to \(message.recipient) got \(receipts.count) receipts")
                continue
            }
            let copy = copies[message.id] ?? []
            if copy.count != 1 {
                problems.append("user \(user): its copy of #\(message.index) delivered \(copy.count) times")
            } else if copy[0] != receipt.outgoingSeq {
                problems.append("user \(user): #\(message.index) receipt says copy seq \(receipt.outgoingSeq), delivered at \(copy[0])")
            }
            if let seq = receipt.seq, let recipient = recipients[message.recipient] {
                let delivered = recipient.delivered.first { !$0.outgoing && $0.peer == user && $0.clientMessageID == message.id }
                if delivered?.seq != seq {
                    problems.append("user \(user): #\(message.index) receipt says seq \(seq) at \(message.recipient), delivered at \(delivered.map { "\($0.seq)" } ?? "none")")
                }
            }
        }
        let known = Set(sent.map(\.id))
        let strangers = copies.keys.filter { !known.contains($0) }
        if !strangers.isEmpty { problems.append("user \(user): \(strangers.count) outgoing copies of messages it never sent") }
        return problems
    }
}
