import SeqboxFormat

/// One device's cursor: it holds everything up to `seq`.
public struct DeviceCursor: Sendable, Equatable {
    public var device: DeviceID
    public var seq: Seq
    public init(device: DeviceID, seq: Seq) {
        self.device = device
        self.seq = seq
    }
}

/// A mailbox's head and index. 32 bytes plus its positions.
/// Invariant: when `positions.count > 0`, `firstSeq + positions.count - 1 == newestSeq`;
/// otherwise `firstSeq == newestSeq + 1` (nothing retained).
struct MailboxState {
    var newestSeq: UInt32 = 0
    var firstSeq: UInt32 = 1
    var epoch: UInt32 = Epoch.initial.rawValue
    /// Index into `MailboxTable.extras`, or -1: most mailboxes have no cursors or blocks yet.
    var extrasIndex: Int32 = -1
    var positions = PositionVector()

    var firstAvailable: UInt32 { positions.count > 0 ? firstSeq : newestSeq &+ 1 }

    /// The position of `seq`, or nil when it is not retained.
    @inline(__always)
    func position(of seq: UInt32) -> UInt64? {
        guard seq >= firstSeq, seq <= newestSeq, positions.count > 0 else { return nil }
        return positions[Int(seq - firstSeq)]
    }
}

/// Device cursors and blocklist of one mailbox (kept apart: most mailboxes have none).
struct MailboxExtras {
    var cursors: [DeviceCursor] = []
    var blocked: Set<UserID> = []

    var confirmedSeq: Seq { cursors.map(\.seq).max() ?? .zero }

    func cursor(_ device: DeviceID) -> Seq { cursors.first { $0.device == device }?.seq ?? .zero }

    /// Moves `device`'s cursor forward to `seq`; returns false if it was already there or past.
    mutating func advance(_ device: DeviceID, to seq: Seq) -> Bool {
        if let index = cursors.firstIndex(where: { $0.device == device }) {
            guard cursors[index].seq < seq else { return false }
            cursors[index].seq = seq
            return true
        }
        cursors.append(DeviceCursor(device: device, seq: seq))
        return true
    }
}

/// Every mailbox's in-memory state: user → slot, and per slot the head, index and extras.
/// Not thread-safe by itself: `MailboxStore` guards it (one writer mutates under the lock;
/// readers read under the lock).
final class MailboxTable {
    private(set) var slotByUser: [UInt64: UInt32] = [:]
    private(set) var users: ContiguousArray<UInt64> = []
    var states: ContiguousArray<MailboxState> = []
    var extras: ContiguousArray<MailboxExtras> = []
    /// Total positions held (for stats and memory accounting).
    var indexedMessages = 0

    init() {}

    deinit {
        for index in states.indices { states[index].positions.free() }
    }

    var count: Int { users.count }

    @inline(__always)
    func slot(of user: UserID) -> Int? {
        slotByUser[user.rawValue].map { Int($0) }
    }

    func slotCreating(_ user: UserID) -> Int {
        if let slot = slotByUser[user.rawValue] { return Int(slot) }
        let slot = users.count
        precondition(slot < Int(UInt32.max), "too many mailboxes")
        users.append(user.rawValue)
        states.append(MailboxState())
        slotByUser[user.rawValue] = UInt32(slot)
        return slot
    }

    /// Forgets every user (recovery discarding a checkpoint that failed half-way).
    func resetUsers() {
        slotByUser.removeAll()
        users.removeAll()
    }

    func reserveCapacity(_ users: Int) {
        slotByUser.reserveCapacity(users)
        self.users.reserveCapacity(users)
        states.reserveCapacity(users)
    }

    /// The extras of `slot`, created on first use.
    func extrasIndexCreating(_ slot: Int) -> Int {
        if states[slot].extrasIndex >= 0 { return Int(states[slot].extrasIndex) }
        extras.append(MailboxExtras())
        states[slot].extrasIndex = Int32(extras.count - 1)
        return extras.count - 1
    }

    func extras(ofSlot slot: Int) -> MailboxExtras? {
        let index = states[slot].extrasIndex
        return index >= 0 ? extras[Int(index)] : nil
    }

    /// Appends the position of the mailbox's next seq.
    @inline(__always)
    func appendPosition(slot: Int, seq: UInt32, position: UInt64) {
        precondition(seq == states[slot].newestSeq &+ 1, "seqs must be contiguous")
        if states[slot].positions.count == 0 { states[slot].firstSeq = seq }
        states[slot].positions.append(position)
        states[slot].newestSeq = seq
        indexedMessages += 1
    }

    /// Replaces every position inside `regions` (corrupt log bytes) with the lost marker and
    /// returns the seqs that were there, as ranges per mailbox. Scans every mailbox: used only
    /// when recovery found corruption.
    func markLost(inside regions: [(start: UInt64, end: UInt64)]) -> [RecoveryReport.LostRange] {
        var ranges: [RecoveryReport.LostRange] = []
        for slot in states.indices where states[slot].positions.count > 0 {
            for index in 0 ..< Int(states[slot].positions.count) {
                let position = states[slot].positions[index]
                let inside = !PositionVector.isLost(position) && regions.contains { position >= $0.start && position < $0.end }
                if inside {
                    states[slot].positions.set(index, PositionVector.lostMarker)
                    Self.add(states[slot].firstSeq + UInt32(index), of: UserID(users[slot]), to: &ranges)
                }
            }
        }
        return ranges
    }

    /// Turns unacknowledged lost markers of seqs `first...last` into acknowledged ones (an
    /// epoch-change record accepted the loss).
    func acknowledgeLost(slot: Int, first: UInt32, last: UInt32) {
        let state = states[slot]
        guard state.positions.count > 0, last >= state.firstSeq else { return }
        let low = Int(max(first, state.firstSeq) - state.firstSeq)
        let high = min(Int(last - state.firstSeq), Int(state.positions.count) - 1)
        guard low <= high else { return }
        for index in low ... high where states[slot].positions[index] == PositionVector.lostMarker {
            states[slot].positions.set(index, PositionVector.acknowledgedLostMarker)
        }
    }

    /// The unacknowledged lost seqs of `slot`, as ranges.
    func unacknowledgedLost(slot: Int) -> [RecoveryReport.LostRange] {
        var ranges: [RecoveryReport.LostRange] = []
        let state = states[slot]
        for index in 0 ..< Int(state.positions.count) where state.positions[index] == PositionVector.lostMarker {
            Self.add(state.firstSeq + UInt32(index), of: UserID(users[slot]), to: &ranges)
        }
        return ranges
    }

    /// Adds `seq` of `user` to `ranges`, extending the last range when it ends just before
    /// `seq` (seqs of one user arrive ascending).
    private static func add(_ seq: UInt32, of user: UserID, to ranges: inout [RecoveryReport.LostRange]) {
        if let last = ranges.last, last.user == user, last.last.rawValue &+ 1 == seq {
            ranges[ranges.count - 1].last = Seq(seq)
        } else {
            ranges.append(.init(user: user, first: Seq(seq), last: Seq(seq)))
        }
    }

    /// Bytes of index memory in use (positions + fixed per-mailbox state).
    var approximateMemoryBytes: Int {
        var bytes = users.count * (MemoryLayout<MailboxState>.stride + 8 + 24)
        for state in states { bytes += state.positions.allocatedBytes + (state.positions.capacity > 0 ? 16 : 0) }
        return bytes
    }
}
