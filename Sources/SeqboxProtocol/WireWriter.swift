/// Little-endian appends for frame encoding. Internal: the public surface is `FrameEncoder`.
extension Array where Element == UInt8 {
    /// Appends a little-endian integer.
    @inline(__always)
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Appends a length-prefixed byte field's length, which the caller has checked fits `T`.
    @inline(__always)
    mutating func appendLength<T: FixedWidthInteger>(_ count: Int, as _: T.Type) {
        appendLittleEndian(T(count))
    }
}
