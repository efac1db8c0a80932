#if canImport(Glibc)
import Glibc
#endif

/// A mailbox's message positions: one u64 log position per seq, from the mailbox's first
/// retained seq on. Manually managed (malloc/realloc) so a million small mailboxes cost one
/// allocation each and no array header; the owner (`MailboxTable`) frees it.
/// Memory: 8 bytes per message, plus up to 50% growth slack, plus malloc's 16-byte overhead.
struct PositionVector {
    /// Marks a seq whose record was lost to corruption (not yet acknowledged by an epoch change).
    static let lostMarker: UInt64 = .max
    /// Marks a lost seq whose loss an epoch-change record acknowledged (after a repair).
    static let acknowledgedLostMarker: UInt64 = .max - 1

    /// True for either marker: the seq has no record.
    @inline(__always)
    static func isLost(_ position: UInt64) -> Bool { position >= acknowledgedLostMarker }

    private(set) var base: UnsafeMutablePointer<UInt64>?
    private(set) var count: Int32 = 0
    private(set) var capacity: Int32 = 0

    @inline(__always)
    subscript(index: Int) -> UInt64 {
        precondition(index >= 0 && index < Int(count), "position index out of range")
        return base![index]
    }

    mutating func set(_ index: Int, _ position: UInt64) {
        precondition(index >= 0 && index < Int(count), "position index out of range")
        base![index] = position
    }

    mutating func append(_ position: UInt64) {
        if count == capacity { grow(minimum: Int(count) + 1) }
        base![Int(count)] = position
        count += 1
    }

    /// Appends little-endian u64 positions straight from a checkpoint's bytes (one copy).
    mutating func append(littleEndianPositions bytes: UnsafeRawBufferPointer) {
        let added = bytes.count / 8
        guard added > 0 else { return }
        reserve(Int(count) + added)
        UnsafeMutableRawPointer(base! + Int(count)).copyMemory(from: bytes.baseAddress!, byteCount: added * 8)
        count += Int32(added)
    }

    mutating func reserve(_ total: Int) {
        if total > Int(capacity) { grow(minimum: total, exact: true) }
    }

    private mutating func grow(minimum: Int, exact: Bool = false) {
        precondition(minimum <= Int(Int32.max), "mailbox index too large")
        let target = exact ? minimum : max(4, minimum, Int(capacity) + Int(capacity) / 2)
        guard let grown = realloc(base, target * MemoryLayout<UInt64>.stride) else {
            fatalError("out of memory growing a mailbox index to \(target) entries")
        }
        base = grown.assumingMemoryBound(to: UInt64.self)
        capacity = Int32(target)
    }

    /// Drops the first `n` positions (retention).
    mutating func removeFirst(_ n: Int) {
        precondition(n >= 0 && n <= Int(count))
        guard n > 0 else { return }
        if n < Int(count) { memmove(base!, base! + n, (Int(count) - n) * MemoryLayout<UInt64>.stride) }
        count -= Int32(n)
        if count == 0 { free() }
    }

    /// How many leading entries lie below `cutoff`: every entry up to the last real position
    /// below it (lost markers between them go too). Positions increase, markers aside.
    func countBelow(_ cutoff: UInt64) -> Int {
        var drop = 0
        var index = 0
        while index < Int(count) {
            let position = base![index]
            if !Self.isLost(position) {
                if position >= cutoff { break }
                drop = index + 1
            }
            index += 1
        }
        return drop
    }

    mutating func free() {
        Glibc.free(base)
        base = nil
        count = 0
        capacity = 0
    }

    var allocatedBytes: Int { Int(capacity) * 8 }
}
