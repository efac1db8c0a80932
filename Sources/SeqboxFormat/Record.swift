/// The fixed 64-byte header of every record (FORMAT.md "Records").
public struct RecordHeader: Equatable, Sendable {
    public var checksum: UInt64
    public var storedLength: UInt32
    public var type: RecordType
    public var flags: UInt8
    public var user: UserID
    public var seq: Seq
    public var rawLength: UInt32
    public var timestampMs: UInt64
    public var sender: UserID
    public var device: DeviceID
    public var clientMessageID: ClientMessageID

    public init(
        type: RecordType, flags: UInt8 = 0, user: UserID, seq: Seq, timestampMs: UInt64,
        sender: UserID = UserID(0), device: DeviceID = DeviceID(0),
        clientMessageID: ClientMessageID = ClientMessageID(0),
        storedLength: UInt32 = 0, rawLength: UInt32 = 0, checksum: UInt64 = 0
    ) {
        self.checksum = checksum
        self.storedLength = storedLength
        self.type = type
        self.flags = flags
        self.user = user
        self.seq = seq
        self.rawLength = rawLength
        self.timestampMs = timestampMs
        self.sender = sender
        self.device = device
        self.clientMessageID = clientMessageID
    }

    public var isCompressed: Bool { flags & FormatConstants.flagCompressed != 0 }
    public var isOutgoing: Bool { flags & FormatConstants.flagOutgoing != 0 }

    /// Bytes the record occupies in the segment, padding included.
    public var recordSize: Int { RecordCodec.recordSize(storedLength: Int(storedLength)) }
}

/// Why bytes at a record position are not a valid record.
public enum RecordProblem: String, Sendable, Equatable {
    /// The header or payload runs past the end of the readable bytes.
    case truncated
    /// The stored length is larger than any record may be.
    case badLength
    /// The type byte is not a known record type.
    case unknownType
    /// Flag bits this version does not know, or nonzero reserved bytes.
    case badFlags
    /// The XXH3 checksum does not match.
    case badChecksum
    /// The compressed payload does not decode to its stated length.
    case badPayload
}

/// The result of decoding at one position: a record, the clean end of data (an all-zero
/// header: preallocated, never-written space), or a problem.
public enum RecordDecodeResult: Sendable {
    case record(RecordHeader)
    case endOfData
    case invalid(RecordProblem)
}

/// Encodes and decodes records: pure functions over byte buffers.
public enum RecordCodec {
    @inline(__always)
    public static func recordSize(storedLength: Int) -> Int {
        FormatConstants.alignUp(FormatConstants.recordHeaderSize + storedLength, to: FormatConstants.recordAlignment)
    }

    /// Writes a record (header, stored payload, zero padding) at `offset` of `buffer`, filling
    /// in `storedLength` and the checksum. Returns the record size. The caller has checked
    /// that `recordSize(storedLength:)` bytes fit.
    @discardableResult
    public static func encode(
        _ header: RecordHeader, payload: UnsafeRawBufferPointer,
        into buffer: UnsafeMutableRawBufferPointer, at offset: Int, segmentBase: LogPosition
    ) -> Int {
        let size = recordSize(storedLength: payload.count)
        precondition(offset >= 0 && offset + size <= buffer.count, "record does not fit the buffer")
        precondition(offset % FormatConstants.recordAlignment == 0, "record offset not aligned")
        precondition(payload.count <= FormatConstants.recordSizeMax - FormatConstants.recordHeaderSize, "payload too large")
        let record = UnsafeMutableRawBufferPointer(rebasing: buffer[offset ..< offset + size])
        record.storeLE(UInt32(payload.count), at: 8)
        record.storeLE(header.type.rawValue, at: 12)
        record.storeLE(header.flags, at: 13)
        record.storeLE(UInt16(0), at: 14)
        record.storeLE(header.user.rawValue, at: 16)
        record.storeLE(header.seq.rawValue, at: 24)
        record.storeLE(header.rawLength, at: 28)
        record.storeLE(header.timestampMs, at: 32)
        record.storeLE(header.sender.rawValue, at: 40)
        record.storeLE(header.device.rawValue, at: 48)
        record.storeLE(header.clientMessageID.rawValue, at: 56)
        if payload.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: record[64 ..< 64 + payload.count]).copyMemory(from: payload)
        }
        let end = FormatConstants.recordHeaderSize + payload.count
        for index in end ..< size { record[index] = 0 }
        let covered = UnsafeRawBufferPointer(rebasing: record[FormatConstants.recordChecksumCoveredFrom ..< end])
        record.storeLE(Checksum.xxh3(covered, seed: segmentBase.rawValue), at: 0)
        return size
    }

    /// Decodes the record at `offset` of `bytes` (the readable part of a segment) and verifies
    /// its checksum with `segmentBase` as the seed.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, at offset: Int, segmentBase: LogPosition
    ) -> RecordDecodeResult {
        let headerSize = FormatConstants.recordHeaderSize
        guard offset >= 0, offset <= bytes.count else { return .invalid(.truncated) }
        if bytes.count - offset < headerSize {
            return isZero(bytes, from: offset, count: bytes.count - offset) ? .endOfData : .invalid(.truncated)
        }
        let checksum = bytes.loadLE(at: offset, as: UInt64.self)
        let storedLength = bytes.loadLE(at: offset + 8, as: UInt32.self)
        let typeByte = bytes.loadLE(at: offset + 12, as: UInt8.self)
        if checksum == 0 && storedLength == 0 && typeByte == 0 && isZero(bytes, from: offset, count: headerSize) {
            return .endOfData
        }
        guard Int(storedLength) <= FormatConstants.recordSizeMax - headerSize else { return .invalid(.badLength) }
        guard let type = RecordType(rawValue: typeByte) else { return .invalid(.unknownType) }
        let flags = bytes.loadLE(at: offset + 13, as: UInt8.self)
        let reserved = bytes.loadLE(at: offset + 14, as: UInt16.self)
        guard flags & ~FormatConstants.flagsKnown == 0, reserved == 0 else { return .invalid(.badFlags) }
        let end = offset + headerSize + Int(storedLength)
        guard end <= bytes.count else { return .invalid(.truncated) }
        let covered = UnsafeRawBufferPointer(rebasing: bytes[(offset + FormatConstants.recordChecksumCoveredFrom) ..< end])
        guard Checksum.xxh3(covered, seed: segmentBase.rawValue) == checksum else { return .invalid(.badChecksum) }
        let header = RecordHeader(
            type: type, flags: flags,
            user: UserID(bytes.loadLE(at: offset + 16, as: UInt64.self)),
            seq: Seq(bytes.loadLE(at: offset + 24, as: UInt32.self)),
            timestampMs: bytes.loadLE(at: offset + 32, as: UInt64.self),
            sender: UserID(bytes.loadLE(at: offset + 40, as: UInt64.self)),
            device: DeviceID(bytes.loadLE(at: offset + 48, as: UInt64.self)),
            clientMessageID: ClientMessageID(bytes.loadLE(at: offset + 56, as: UInt64.self)),
            storedLength: storedLength,
            rawLength: bytes.loadLE(at: offset + 28, as: UInt32.self),
            checksum: checksum)
        if !header.isCompressed && header.rawLength != header.storedLength { return .invalid(.badPayload) }
        if Int(header.rawLength) > FormatConstants.payloadSizeMax { return .invalid(.badLength) }
        return .record(header)
    }

    /// The stored payload bytes of a decoded record at `offset`.
    @inline(__always)
    public static func storedPayload(_ bytes: UnsafeRawBufferPointer, at offset: Int, header: RecordHeader) -> UnsafeRawBufferPointer {
        let start = offset + FormatConstants.recordHeaderSize
        return UnsafeRawBufferPointer(rebasing: bytes[start ..< start + Int(header.storedLength)])
    }

    /// The payload as the sender wrote it (decompressed when needed); nil if it does not decode.
    public static func payload(_ bytes: UnsafeRawBufferPointer, at offset: Int, header: RecordHeader) -> [UInt8]? {
        let stored = storedPayload(bytes, at: offset, header: header)
        if !header.isCompressed { return Array(stored) }
        return Compression.decompress(stored, rawLength: Int(header.rawLength))
    }

    static func isZero(_ bytes: UnsafeRawBufferPointer, from offset: Int, count: Int) -> Bool {
        var index = offset
        let end = offset + count
        while index + 8 <= end {
            if bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) != 0 { return false }
            index += 8
        }
        while index < end {
            if bytes[index] != 0 { return false }
            index += 1
        }
        return true
    }
}

/// The idempotency key of a message (FORMAT.md "Idempotency"): XXH3-64 (seed 0) of five
/// little-endian u64s: mailbox user, sender, device, client message id, outgoing (0 or 1).
public enum IdempotencyKey {
    public static func hash(user: UserID, sender: UserID, device: DeviceID, clientMessageID: ClientMessageID, outgoing: Bool) -> UInt64 {
        var words = (user.rawValue.littleEndian, sender.rawValue.littleEndian, device.rawValue.littleEndian,
                     clientMessageID.rawValue.littleEndian, UInt64(outgoing ? 1 : 0).littleEndian)
        return withUnsafeBytes(of: &words) { Checksum.xxh3($0) }
    }

    public static func hash(_ header: RecordHeader) -> UInt64 {
        hash(user: header.user, sender: header.sender, device: header.device, clientMessageID: header.clientMessageID, outgoing: header.isOutgoing)
    }
}
