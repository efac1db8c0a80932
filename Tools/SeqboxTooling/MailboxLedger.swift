import SeqboxFormat
import SeqboxStore

/// What the log says about each mailbox, accumulated record by record in log order: newest
/// seq, epoch, message counts and bytes, device cursors and blocklist. fsck checks the log
/// against it; dump's `--stats` prints it.
///
/// Built for the per-record path of a scan: a struct (it lives inside the scan's visitor, so
/// updates need no runtime exclusivity checks) and an open-addressing table whose buckets are
/// the tallies themselves, so finding a mailbox and updating it touch one cache line.
struct MailboxLedger {
    struct Tally {
        var user: UInt64 = 0
        var occupied = false
        /// True once a message (or a checkpoint) told the mailbox's position in its sequence.
        var seen = false
        var newestSeq: UInt32 = 0
        var epoch: UInt32 = Epoch.initial.rawValue
        /// Index into `extras`, or -1 (most mailboxes have no cursor, block or epoch change).
        var extrasIndex: Int32 = -1
        var messages = 0
        var storedBytes: Int64 = 0
        var rawBytes: Int64 = 0
        /// Order-independent digest of the (seq, position) of every message seen, compared
        /// with a checkpoint's positions in one sequential pass.
        var positionDigest: UInt64 = 0
    }

    struct Extras {
        var cursors: [DeviceCursor] = []
        var blocked: Set<UserID> = []
        /// Ranges an epoch-change record declared lost (and so acknowledged).
        var acknowledgedLost: [ClosedRange<UInt32>] = []
    }

    /// The buckets, indexed by slot; a power of two long, at most half full.
    var tallies: [Tally]
    var extras: [Extras] = []
    /// Occupied slots in first-seen order.
    private(set) var slots: [Int32] = []
    private var mask: Int

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        tallies = [Tally](repeating: Tally(), count: size)
        mask = size - 1
    }

    var count: Int { slots.count }

    /// One message's contribution to `Tally.positionDigest` (a strong 64-bit mix, summed).
    @inline(__always)
    static func digest(seq: UInt32, position: UInt64) -> UInt64 {
        var mixed = position &+ UInt64(seq) &* 0x9E37_79B9_7F4A_7C15
        mixed = (mixed ^ (mixed >> 31)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    @inline(__always)
    private func bucket(_ user: UInt64) -> Int {
        Int(truncatingIfNeeded: (user &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The slot of `user`'s tally, nil if the ledger has not seen the user.
    @inline(__always)
    func slot(of user: UserID) -> Int? {
        var index = bucket(user.rawValue)
        while tallies[index].occupied {
            if tallies[index].user == user.rawValue { return index }
            index = (index + 1) & mask
        }
        return nil
    }

    /// The slot of `user`'s tally, created empty if needed. Creating may move every slot:
    /// callers hold a slot only until their next call that creates.
    @inline(__always)
    mutating func slotCreating(_ user: UserID) -> Int {
        var index = bucket(user.rawValue)
        while tallies[index].occupied {
            if tallies[index].user == user.rawValue { return index }
            index = (index + 1) & mask
        }
        if (slots.count + 1) * 2 > tallies.count {
            grow()
            return slotCreating(user)
        }
        tallies[index].occupied = true
        tallies[index].user = user.rawValue
        slots.append(Int32(index))
        return index
    }

    private mutating func grow() {
        let old = tallies
        let order = slots
        tallies = [Tally](repeating: Tally(), count: old.count * 2)
        mask = tallies.count - 1
        slots = []
        slots.reserveCapacity(order.count)
        for slot in order {
            let tally = old[Int(slot)]
            var index = bucket(tally.user)
            while tallies[index].occupied { index = (index + 1) & mask }
            tallies[index] = tally
            slots.append(Int32(index))
        }
    }

    func user(at slot: Int) -> UserID { UserID(tallies[slot].user) }

    mutating func extrasIndexCreating(_ slot: Int) -> Int {
        if tallies[slot].extrasIndex >= 0 { return Int(tallies[slot].extrasIndex) }
        extras.append(Extras())
        tallies[slot].extrasIndex = Int32(extras.count - 1)
        return extras.count - 1
    }

    func extras(of slot: Int) -> Extras? {
        let index = tallies[slot].extrasIndex
        return index >= 0 ? extras[Int(index)] : nil
    }

    /// Moves `device`'s cursor forward (cursors never move back, as in the store).
    mutating func advanceCursor(slot: Int, device: DeviceID, to seq: Seq) {
        let index = extrasIndexCreating(slot)
        if let position = extras[index].cursors.firstIndex(where: { $0.device == device }) {
            if extras[index].cursors[position].seq < seq { extras[index].cursors[position].seq = seq }
        } else {
            extras[index].cursors.append(DeviceCursor(device: device, seq: seq))
        }
    }

    /// Applies a non-message record's state change (messages are checked by the caller).
    mutating func applyState(_ header: RecordHeader, slot: Int) {
        switch header.type {
        case .ack:
            advanceCursor(slot: slot, device: header.device, to: header.seq)
        case .block:
            extras[extrasIndexCreating(slot)].blocked.insert(header.sender)
        case .unblock:
            extras[extrasIndexCreating(slot)].blocked.remove(header.sender)
        case .epochChange:
            let first = UInt32(truncatingIfNeeded: header.sender.rawValue)
            let last = UInt32(truncatingIfNeeded: header.device.rawValue)
            tallies[slot].epoch = UInt32(truncatingIfNeeded: header.clientMessageID.rawValue)
            if first >= 1 && first <= last { extras[extrasIndexCreating(slot)].acknowledgedLost.append(first ... last) }
            // The record states the newest seq at the change; a store that keeps lost seqs
            // reserved may state more than the messages seen.
            if header.seq.rawValue > tallies[slot].newestSeq {
                tallies[slot].newestSeq = header.seq.rawValue
                tallies[slot].seen = true
            }
        case .message, .padding:
            break
        }
    }
}
