import SeqboxFormat

/// The idempotency window: the keys of the most recent `capacity` appends, store-wide.
///
/// A key is the XXH3-64 of (mailbox, sender, device, client message id, outgoing flag); the
/// entry remembers the mailbox and seq it was stored under. A hit is verified against the
/// stored record itself when it is still retained, so a hash collision cannot return a wrong
/// seq. The window is rebuilt from the log (the key lives in every message record) and saved
/// in checkpoints, so it survives restarts and crashes. 24 bytes an entry plus the hash map.
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
    private var indexByKey: [UInt64: Int32] = [:]

    init(capacity: Int) {
        precondition(capacity >= 1 && capacity < Int(Int32.max))
        self.capacity = capacity
    }

    var count: Int { ring.count }

    func lookup(_ keyHash: UInt64) -> Entry? {
        guard let index = indexByKey[keyHash] else { return nil }
        return ring[Int(index)]
    }

    func insert(_ entry: Entry) {
        if ring.count < capacity {
            ring.append(entry)
            indexByKey[entry.keyHash] = Int32(ring.count - 1)
            return
        }
        let evicted = ring[oldest]
        if indexByKey[evicted.keyHash] == Int32(oldest) { indexByKey.removeValue(forKey: evicted.keyHash) }
        ring[oldest] = entry
        indexByKey[entry.keyHash] = Int32(oldest)
        oldest = (oldest + 1) % capacity
    }

    func removeAll() {
        ring.removeAll()
        indexByKey.removeAll()
        oldest = 0
    }

    /// Entries from oldest to newest (checkpoint order: re-inserting them rebuilds the window).
    func entriesOldestFirst() -> [Entry] {
        guard ring.count == capacity else { return Array(ring) }
        return Array(ring[oldest...] + ring[..<oldest])
    }
}
