import SeqboxProtocol

/// The few Seqbox frames the load path sends and reads, laid out in place (PROTOCOL.md §2, §5)
/// instead of through `Frame` values: the load generator shares two cores with the server, and
/// building a `Frame` per SEND and decoding every PULL_OK record into arrays would make the
/// client's cost part of the measurement. Layouts and constants come from `ProtocolConstants`;
/// `E2ESelfCheck` compares every frame written here with `FrameEncoder`'s bytes and every
/// field read here with `FrameDecoder`'s, so the two cannot drift apart unnoticed.
enum SeqboxWire {
    static let headerSize = ProtocolConstants.frameHeaderSize

    // MARK: Client frames

    /// SEND (§5.5): to u64 | clientMessageID u64 | bodyLength u32 | body.
    static func appendSend(to recipient: UInt64, clientMessageID: UInt64, body: UnsafeRawBufferPointer,
                           requestID: UInt32, into buffer: ByteBuffer) {
        buffer.reserve(headerSize + ProtocolConstants.sendFixedSize + body.count)
        appendHeader(type: FrameType.send.rawValue, requestID: requestID, bodySize: ProtocolConstants.sendFixedSize + body.count, into: buffer)
        buffer.appendLittleEndian(recipient)
        buffer.appendLittleEndian(clientMessageID)
        buffer.appendLittleEndian(UInt32(body.count))
        buffer.append(body)
    }

    /// PULL (§5.7): after u32 | epoch u32 | limit u16 | reserved u16.
    static func appendPull(after: UInt32, epoch: UInt32, limit: UInt16, requestID: UInt32, into buffer: ByteBuffer) {
        appendHeader(type: FrameType.pull.rawValue, requestID: requestID, bodySize: ProtocolConstants.pullBodySize, into: buffer)
        buffer.appendLittleEndian(after)
        buffer.appendLittleEndian(epoch)
        buffer.appendLittleEndian(limit)
        buffer.appendLittleEndian(UInt16(0))
    }

    /// ACK (§5.11): seq u32.
    static func appendAck(seq: UInt32, requestID: UInt32, into buffer: ByteBuffer) {
        appendHeader(type: FrameType.ack.rawValue, requestID: requestID, bodySize: ProtocolConstants.ackBodySize, into: buffer)
        buffer.appendLittleEndian(seq)
    }

    private static func appendHeader(type: UInt8, requestID: UInt32, bodySize: Int, into buffer: ByteBuffer) {
        buffer.appendLittleEndian(UInt32(ProtocolConstants.frameLengthMin + bodySize))
        buffer.appendByte(type)
        buffer.appendByte(0)
        buffer.appendLittleEndian(UInt16(0))
        buffer.appendLittleEndian(requestID)
    }

    // MARK: Server frames

    /// A malformed or unexpected server frame: the connection cannot continue.
    struct Malformed: Error, CustomStringConvertible {
        let reason: String
        var description: String { "malformed Seqbox frame: \(reason)" }
    }

    /// One whole server frame in place: its type byte, request ID and body.
    struct ServerFrame {
        let type: UInt8
        let requestID: UInt32
        let body: UnsafeRawBufferPointer

        func u8(_ offset: Int) throws(Malformed) -> UInt8 {
            guard offset + 1 <= body.count else { throw Malformed(reason: "short body of type \(type)") }
            return body[offset]
        }

        func u16(_ offset: Int) throws(Malformed) -> UInt16 {
            guard offset + 2 <= body.count else { throw Malformed(reason: "short body of type \(type)") }
            return UInt16(littleEndian: body.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        }

        func u32(_ offset: Int) throws(Malformed) -> UInt32 {
            guard offset + 4 <= body.count else { throw Malformed(reason: "short body of type \(type)") }
            return UInt32(littleEndian: body.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        }

        func u64(_ offset: Int) throws(Malformed) -> UInt64 {
            guard offset + 8 <= body.count else { throw Malformed(reason: "short body of type \(type)") }
            return UInt64(littleEndian: body.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
    }

    /// The whole frame at `offset` of `bytes` and the offset after it, or nil when it is not
    /// all buffered yet. A length outside the protocol's bounds loses the stream: it throws.
    static func frame(in bytes: UnsafeRawBufferPointer, at offset: Int) throws(Malformed) -> (frame: ServerFrame, next: Int)? {
        guard bytes.count - offset >= ProtocolConstants.lengthFieldSize else { return nil }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        guard length >= ProtocolConstants.frameLengthMin, length <= ProtocolConstants.frameLengthMax else {
            throw Malformed(reason: "frame length \(length)")
        }
        let end = offset + ProtocolConstants.lengthFieldSize + length
        guard end <= bytes.count else { return nil }
        let type = bytes[offset + ProtocolConstants.frameTypeOffset]
        let requestID = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + ProtocolConstants.requestIDOffset, as: UInt32.self))
        let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + headerSize) ..< end])
        return (ServerFrame(type: type, requestID: requestID, body: body), end)
    }

    /// The fields of a PULL_OK (§5.8) the load path uses.
    struct PullOKHead {
        let newestSeq: UInt32
        let epoch: UInt32
        let hasMore: Bool
        let recordCount: Int
    }

    static func pullOKHead(_ frame: ServerFrame) throws(Malformed) -> PullOKHead {
        PullOKHead(newestSeq: try frame.u32(0), epoch: try frame.u32(4),
                   hasMore: try frame.u8(8) & ProtocolConstants.pullOKFlagHasMore != 0, recordCount: Int(try frame.u16(10)))
    }

    /// Calls `body(seq, peer, clientMessageID)` for each record of a PULL_OK, in order, after
    /// checking each record's bounds; returns the seq of the last one (0 if none).
    @inline(__always)
    static func forEachRecord(of frame: ServerFrame, count: Int,
                              _ body: (_ seq: UInt32, _ peer: UInt64, _ clientMessageID: UInt64) -> Void) throws(Malformed) -> UInt32 {
        var offset = ProtocolConstants.pullOKFixedSize
        var last: UInt32 = 0
        for _ in 0 ..< count {
            let seq = try frame.u32(offset)
            let peer = try frame.u64(offset + 8)
            let clientMessageID = try frame.u64(offset + 24)
            let bodyLength = Int(try frame.u32(offset + 40))
            offset += ProtocolConstants.pullRecordFixedSize + bodyLength
            guard offset <= frame.body.count else { throw Malformed(reason: "PULL_OK record beyond the frame") }
            body(seq, peer, clientMessageID)
            last = seq
        }
        guard offset == frame.body.count else { throw Malformed(reason: "PULL_OK has trailing bytes") }
        return last
    }
}
