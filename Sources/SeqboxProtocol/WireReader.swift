/// Reads the fields of one frame body with explicit bounds checks: a short body throws
/// `shortBody` and nothing is ever read out of bounds. Internal: the public surface is `Frame`.
struct WireReader {
    /// The body, the header excluded.
    let bytes: UnsafeRawBufferPointer
    /// The decoder's limits, for fields bounded by them.
    let limits: FrameLimits
    private let frameType: FrameType
    private let requestID: UInt32
    private(set) var offset = 0

    init(body: UnsafeRawBufferPointer, frameType: FrameType, requestID: UInt32, limits: FrameLimits) {
        self.bytes = body
        self.frameType = frameType
        self.requestID = requestID
        self.limits = limits
    }

    /// Bytes not read yet.
    var remaining: Int { bytes.count - offset }

    /// An error about this frame.
    func error(_ kind: ProtocolError.Kind) -> ProtocolError {
        ProtocolError(kind, frameType: frameType, requestID: requestID)
    }

    /// Reads a little-endian integer.
    @inline(__always)
    mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(ProtocolError) -> T {
        let size = MemoryLayout<T>.size
        guard size <= remaining else { throw error(.shortBody) }
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    /// Reads a reserved field, which must be zero.
    mutating func readReserved<T: FixedWidthInteger>(_: T.Type) throws(ProtocolError) {
        let fieldOffset = frameOffset
        guard try read(T.self) == 0 else { throw error(.reservedBitsSet(offset: fieldOffset)) }
    }

    /// Reads a flags byte whose bits outside `known` must be zero.
    mutating func readFlags(known: UInt8) throws(ProtocolError) -> UInt8 {
        let fieldOffset = frameOffset
        let flags = try read(UInt8.self)
        guard flags & ~known == 0 else { throw error(.reservedBitsSet(offset: fieldOffset)) }
        return flags
    }

    /// Copies `count` bytes out of the body.
    mutating func readBytes(count: Int) throws(ProtocolError) -> [UInt8] {
        guard count >= 0, count <= remaining else { throw error(.shortBody) }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + count])
        offset += count
        return [UInt8](slice)
    }

    /// Reads `count` bytes as UTF-8 text.
    mutating func readUTF8(count: Int) throws(ProtocolError) -> String {
        let raw = try readBytes(count: count)
        guard let text = String(validating: raw, as: UTF8.self) else { throw error(.invalidUTF8) }
        return text
    }

    /// Reads a count-prefixed list: a `Count` field, which must lie in 1...`max` (0...`max` when
    /// `allowsEmpty`), then that many elements. Room is reserved only for the elements the bytes
    /// present can hold, at `elementSizeMin` bytes each, so a tiny frame cannot make the decoder
    /// allocate for `max` elements; a short body fails while reading them.
    mutating func readList<Count: FixedWidthInteger, Element>(
        countAs _: Count.Type, allowsEmpty: Bool = false, max: Int, elementSizeMin: Int,
        element: (inout WireReader) throws(ProtocolError) -> Element
    ) throws(ProtocolError) -> [Element] {
        let countOffset = frameOffset
        let count = Int(try read(Count.self))
        guard count > 0 || allowsEmpty else { throw error(.invalidValue(offset: countOffset)) }
        guard count <= max else { throw error(.fieldTooLarge(length: count, limit: max)) }
        var elements: [Element] = []
        elements.reserveCapacity(Swift.min(count, remaining / elementSizeMin))
        for _ in 0 ..< count { elements.append(try element(&self)) }
        return elements
    }

    /// Checks that the body ended exactly after its last field.
    func finish() throws(ProtocolError) {
        guard remaining == 0 else { throw error(.trailingBytes(count: remaining)) }
    }

    /// The current position counted from the start of the frame (for error offsets).
    var frameOffset: Int { ProtocolConstants.frameHeaderSize + offset }
}
