import SeqboxFormat

/// The idempotency window: the keys of the most recent `capacity` appends, store-wide.
///
/// A key is the XXH3-64 of (mailbox, sender, device, client message id, outgoing flag); the
/// entry remembers the mailbox and seq it was stored under. A hit is verified against the
/// stored record itself when it is still retained, so a hash collision cannot return a wrong
/// seq. The window is rebuilt from the log (the key lives in every message record) and saved
/// in checkpoints, so it survives restarts and crashes.
///
/// Memory: a ring of 24-byte entries plus an open-addressing table of 4-byte ring indices
/// (at most half full): about 32 bytes an entry, 32 MiB for the default million.
final class DedupWindow {
    struct Entry: Equatable {
        var keyHash: UInt64
        var user: UInt64
        var seq: UInt32
    }

    let capacity: Int
    private(set) var ring: ContiguousArray<Entry> = []
    /// Index in `ring` of the oldest entry once the ring is full.
    private var oldest = 0
    /// Linear-probing table of ring indices (-1: empty), sized to a power of two ≥ 2 × capacity.
    private var buckets: ContiguousArray<Int32>
    private let mask: Int

    init(capacity: Int) {
        precondition(capacity >= 1 && capacity < Int(Int32.max) / 2)
        self.capacity = capacity
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        mask = size - 1
        buckets = ContiguousArray(repeating: -1, count: size)
    }

    var count: Int { ring.count }

    @inline(__always)
    private func home(_ keyHash: UInt64) -> Int { Int(truncatingIfNeeded: keyHash) & mask }

    /// The bucket holding `keyHash`, or nil.
    private func bucket(of keyHash: UInt64) -> Int? {
        var index = home(keyHash)
        while true {
            let entry = buckets[index]
            if entry < 0 { return nil }
            if ring[Int(entry)].keyHash == keyHash { return index }
            index = (index + 1) & mask
        }
    }

    func lookup(_ keyHash: UInt64) -> Entry? {
        guard let index = bucket(of: keyHash) else { return nil }
        return ring[Int(buckets[index])]
    }

    func insert(_ entry: Entry) {
        let slot: Int
        if ring.count < capacity {
            slot = ring.count
            ring.append(entry)
        } else {
            slot = oldest
            removeBucket(pointingTo: slot)
            ring[slot] = entry
            oldest = (oldest + 1) % capacity
        }
        // A newer append of the same key replaces the older one's bucket.
        if let existing = bucket(of: entry.keyHash), Int(buckets[existing]) != slot {
            buckets[existing] = Int32(slot)
            return
        }
        var index = home(entry.keyHash)
        while buckets[index] >= 0 { index = (index + 1) & mask }
        buckets[index] = Int32(slot)
    }

    /// Removes the bucket that points at ring slot `slot` (if any), keeping probe chains
    /// intact by shifting later entries back (linear-probing deletion).
    private func removeBucket(pointingTo slot: Int) {
        guard let found = bucket(of: ring[slot].keyHash), Int(buckets[found]) == slot else { return }
        var hole = found
        var index = (hole + 1) & mask
        while buckets[index] >= 0 {
            let wanted = home(ring[Int(buckets[index])].keyHash)
            // Move the entry back into the hole if its home is not in (hole, index].
            let distanceToIndex = (index - wanted) & mask
            let distanceToHole = (hole - wanted) & mask
            if distanceToHole < distanceToIndex {
                buckets[hole] = buckets[index]
                hole = index
            }
            index = (index + 1) & mask
        }
        buckets[hole] = -1
    }

    func removeAll() {
        ring.removeAll()
        for index in buckets.indices { buckets[index] = -1 }
        oldest = 0
    }

    /// Entries from oldest to newest (checkpoint order: re-inserting them rebuilds the window).
    func entriesOldestFirst() -> [Entry] {
        guard ring.count == capacity else { return Array(ring) }
        return Array(ring[oldest...] + ring[..<oldest])
    }

    var approximateMemoryBytes: Int { ring.capacity * MemoryLayout<Entry>.stride + buckets.count * 4 }
}
