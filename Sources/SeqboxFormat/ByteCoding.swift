/// Appends little-endian integers to a growing byte array (index and checkpoint files).
public struct ByteWriter: Sendable {
    public var bytes: [UInt8] { storage }
    @usableFromInline var storage: [UInt8]
    public init(capacity: Int = 0) { storage = []; storage.reserveCapacity(capacity) }

    @inlinable @inline(__always)
    public mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { storage.append(contentsOf: $0) }
    }
    public mutating func append(bytes other: some Collection<UInt8>) { storage.append(contentsOf: other) }
    public mutating func appendZeros(_ count: Int) { storage.append(contentsOf: repeatElement(0, count: count)) }
    public var count: Int { storage.count }
    /// Appends the XXH3-64 of everything written so far (the trailer of index/checkpoint files).
    public mutating func appendChecksumTrailer() { append(Checksum.xxh3(storage)) }
}

/// Reads little-endian integers from bytes with explicit bounds checks: a short or malformed
/// buffer throws `truncated`, never reads out of bounds.
public struct ByteReader {
    public struct Truncated: Error {
        @inlinable public init() {}
    }
    public let bytes: UnsafeRawBufferPointer
    public var offset: Int { position }
    @usableFromInline var position: Int

    public init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.position = offset
    }

    public var remaining: Int { bytes.count - offset }

    @inlinable @inline(__always)
    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(Truncated) -> T {
        let size = MemoryLayout<T>.size
        guard position >= 0, size <= bytes.count - position else { throw Truncated() }
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
        position += size
        return value
    }

    public mutating func readBytes(_ count: Int) throws(Truncated) -> UnsafeRawBufferPointer {
        guard count >= 0, position >= 0, count <= bytes.count - position else { throw Truncated() }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position ..< position + count])
        position += count
        return slice
    }

    public mutating func skip(_ count: Int) throws(Truncated) { _ = try readBytes(count) }
}

extension UnsafeRawBufferPointer {
    /// A little-endian integer at `offset`; the caller has checked the bounds.
    @inlinable @inline(__always)
    public func loadLE<T: FixedWidthInteger>(at offset: Int, as _: T.Type) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    /// Stores a little-endian integer at `offset`; the caller has checked the bounds.
    @inlinable @inline(__always)
    public func storeLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
}
