/// The 12-byte header every frame starts with (PROTOCOL.md §2 "Framing"):
/// length u32 | type u8 | flags u8 | reserved u16 | requestID u32.
struct FrameHeader {
    /// Bytes after the length field: the rest of the header plus the body.
    var length: Int
    var type: UInt8
    var flags: UInt8
    var reserved: UInt16
    var requestID: UInt32

    /// Reads a header; the caller has checked that `frame` holds at least a header.
    init(reading frame: UnsafeRawBufferPointer) {
        precondition(frame.count >= ProtocolConstants.frameHeaderSize, "short header")
        length = Int(UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        type = frame[ProtocolConstants.frameTypeOffset]
        flags = frame[5]
        reserved = UInt16(littleEndian: frame.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
        requestID = UInt32(littleEndian: frame.loadUnaligned(
            fromByteOffset: ProtocolConstants.requestIDOffset, as: UInt32.self))
    }

    /// Reads the length field alone; the caller has checked there are 4 bytes at `offset`.
    static func length(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Int {
        precondition(offset >= 0 && bytes.count - offset >= ProtocolConstants.lengthFieldSize, "short length")
        return Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    }

    /// Appends a header for a body of `bodySize` bytes.
    static func encode(type: FrameType, requestID: UInt32, bodySize: Int, into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(UInt32(ProtocolConstants.frameLengthMin + bodySize))
        bytes.appendLittleEndian(type.rawValue)
        bytes.appendLittleEndian(UInt8(0))
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(requestID)
    }
}
