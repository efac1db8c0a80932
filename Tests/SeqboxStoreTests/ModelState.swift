import SeqboxFormat
import SeqboxStore

/// The reference the model-based test checks the store against: what every mailbox, idempotency
/// key, cursor and blocklist must hold, kept in plain dictionaries and arrays. It computes the
/// expected answer of each operation from the store's documented contract alone.
struct ModelState {
    /// The idempotency key of an append (DESIGN.md invariant 4).
    struct Key: Hashable {
        var user: UInt64
        var sender: UInt64
        var device: UInt64
        var clientMessageID: UInt64
        var outgoing: Bool

        init(_ message: NewMessage) {
            user = message.user.rawValue
            sender = message.sender.rawValue
            device = message.device.rawValue
            clientMessageID = message.clientMessageID.rawValue
            outgoing = message.outgoing
        }
    }

    /// Every message of every mailbox, by seq - 1.
    private(set) var mailboxes: [UInt64: [NewMessage]] = [:]
    /// Each stored key and the seq it was stored under.
    private(set) var keys: [Key: UInt32] = [:]
    /// Every message appended so far (to retry one).
    private(set) var appended: [NewMessage] = []
    /// user → device → acknowledged seq.
    private(set) var cursors: [UInt64: [UInt64: UInt32]] = [:]
    private(set) var blocked: [UInt64: Set<UInt64>] = [:]
    /// The oldest retained seq of each mailbox as the store last reported it (retention decides
    /// which whole segments go, so the model learns it, and checks that it only moves forward).
    var firstAvailable: [UInt64: UInt32] = [:]

    func newestSeq(_ user: UInt64) -> UInt32 { UInt32(mailboxes[user]?.count ?? 0) }
    func firstAvailable(_ user: UInt64) -> UInt32 { firstAvailable[user] ?? 1 }
    func message(_ user: UInt64, seq: UInt32) -> NewMessage { mailboxes[user]![Int(seq) - 1] }
    func cursor(_ user: UInt64, device: UInt64) -> UInt32 { cursors[user]?[device] ?? 0 }
    func confirmedSeq(_ user: UInt64) -> UInt32 { cursors[user]?.values.max() ?? 0 }

    /// Applies an atomic batch of appends; returns the expected result of each.
    mutating func append(batch messages: [NewMessage]) -> [AppendResult] {
        messages.map { message in
            let key = Key(message)
            if let seq = keys[key] { return AppendResult(seq: Seq(seq), duplicate: true) }
            mailboxes[message.user.rawValue, default: []].append(message)
            let seq = newestSeq(message.user.rawValue)
            keys[key] = seq
            appended.append(message)
            return AppendResult(seq: Seq(seq), duplicate: false)
        }
    }

    /// The expected outcome of an ack: its result, or nil when the store must refuse it.
    mutating func ack(user: UInt64, device: UInt64, seq: UInt32) -> AppendResult? {
        if seq == 0 { return AppendResult(seq: .zero, duplicate: true) }
        guard seq <= newestSeq(user) else { return nil }
        if seq <= cursor(user, device: device) { return AppendResult(seq: Seq(seq), duplicate: true) }
        cursors[user, default: [:]][device] = seq
        return AppendResult(seq: Seq(seq), duplicate: false)
    }

    mutating func block(user: UInt64, blocked other: UInt64) { blocked[user, default: []].insert(other) }
    mutating func unblock(user: UInt64, blocked other: UInt64) { blocked[user]?.remove(other) }

    /// The expected answer of `read(user:after:limit:maxBytes:)` (arguments already valid).
    func read(user: UInt64, after: UInt32, limit: Int, maxBytes: Int) -> (status: ReadStatus, seqs: [UInt32], hasMore: Bool) {
        let newest = newestSeq(user)
        guard after < newest else { return (.ok, [], false) }
        let first = after + 1
        let floor = firstAvailable(user)
        if first < floor { return (.truncated(firstAvailable: Seq(floor)), [], false) }
        var seqs: [UInt32] = []
        var bytes = 0
        var seq = first
        while seq <= newest && seqs.count < limit {
            bytes += message(user, seq: seq).payload.count
            if !seqs.isEmpty && bytes > maxBytes { break }
            seqs.append(seq)
            seq += 1
        }
        return (.ok, seqs, seqs.last! < newest)
    }
}
