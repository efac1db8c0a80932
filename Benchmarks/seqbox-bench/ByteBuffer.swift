#if canImport(Glibc)
import Glibc
#endif

/// A growable byte queue in one malloc'd block: bytes are appended at the tail and consumed
/// from the head. The load generator's per-connection input and output buffers: no
/// copy-on-write checks, no Foundation, and the readable bytes are one contiguous region a
/// socket call can take directly. Used by one thread at a time.
final class ByteBuffer {
    /// Capacity kept after a drained buffer shrinks back (idle connections stay small).
    static let retainedCapacityMax = 64 << 10

    private var storage: UnsafeMutableRawPointer
    private(set) var capacity: Int
    private var head = 0
    private var tail = 0

    init(capacity: Int = 256) {
        self.capacity = max(16, capacity)
        storage = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// Bytes appended and not yet consumed.
    var count: Int { tail - head }
    var isEmpty: Bool { head == tail }

    /// The unconsumed bytes (valid until the next append or consume).
    var readable: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage + head, count: tail - head) }

    /// Drops `bytes` from the head; an emptied buffer restarts at offset 0.
    func consume(_ bytes: Int) {
        precondition(bytes >= 0 && bytes <= count, "consume beyond the buffered bytes")
        head += bytes
        if head == tail {
            head = 0
            tail = 0
            if capacity > Self.retainedCapacityMax { resize(to: Self.retainedCapacityMax) }
        }
    }

    func removeAll() {
        head = 0
        tail = 0
    }

    /// Room for at least `bytes` more at the tail: moves the unconsumed bytes to the front
    /// when that is enough, else grows (doubling).
    @inline(__always)
    func reserve(_ bytes: Int) {
        if capacity - tail >= bytes { return }
        makeRoom(bytes)
    }

    private func makeRoom(_ bytes: Int) {
        let live = tail - head
        if head > 0 && capacity - live >= bytes && head >= live {
            storage.copyMemory(from: storage + head, byteCount: live)
            head = 0
            tail = live
            return
        }
        var newCapacity = capacity
        while newCapacity - live < bytes { newCapacity *= 2 }
        resize(to: newCapacity)
    }

    private func resize(to newCapacity: Int) {
        let live = tail - head
        precondition(newCapacity >= live)
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        fresh.copyMemory(from: storage + head, byteCount: live)
        storage.deallocate()
        storage = fresh
        capacity = newCapacity
        head = 0
        tail = live
    }

    /// The free space at the tail after reserving `bytes`; call `commit` with what was written.
    func writableTail(reserving bytes: Int) -> UnsafeMutableRawBufferPointer {
        reserve(bytes)
        return UnsafeMutableRawBufferPointer(start: storage + tail, count: capacity - tail)
    }

    func commit(_ bytes: Int) {
        precondition(bytes >= 0 && tail + bytes <= capacity, "commit beyond the reserved space")
        tail += bytes
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        reserve(bytes.count)
        (storage + tail).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        tail += bytes.count
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    @inline(__always)
    func appendByte(_ value: UInt8) {
        reserve(1)
        storage.storeBytes(of: value, toByteOffset: tail, as: UInt8.self)
        tail += 1
    }

    /// Appends a fixed-width integer, little-endian (the Seqbox wire order).
    @inline(__always)
    func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        reserve(MemoryLayout<T>.size)
        storage.storeBytes(of: value.littleEndian, toByteOffset: tail, as: T.self)
        tail += MemoryLayout<T>.size
    }

    /// Appends the decimal digits of `value` (RESP lengths and numbers).
    func appendDecimal(_ value: Int) {
        if value < 0 {
            appendByte(UInt8(ascii: "-"))
            appendDecimal(UInt64(value.magnitude))
        } else {
            appendDecimal(UInt64(value))
        }
    }

    func appendDecimal(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0) // 24 bytes: room for 20 digits
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { scratch in
            repeat {
                scratch[23 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            append(UnsafeRawBufferPointer(rebasing: scratch[(24 - count)...]))
        }
    }
}
