/// Turns a byte stream into frames, one decoder per connection (PROTOCOL.md §2 "Framing").
///
/// Feed it whatever the socket returned with `append(_:)`, then call `next()` until it returns
/// nil (need more data). It buffers at most one partial frame beyond what you appended and did
/// not drain, rejects a declared length above `limits.frameLengthMax` before buffering the frame,
/// and never reads out of bounds. Consumed bytes are dropped by amortized compaction (each byte
/// is moved at most a constant number of times), and a drained buffer that grew past
/// `ProtocolConstants.decoderRetainedCapacityMax` is released, so idle connections stay small.
///
/// After a `ProtocolError` with `isFramingLost`, the decoder stays failed: `next()` throws the
/// same error again and `append` discards input. After any other error the bad frame has been
/// consumed whole and `next()` continues with the following frame.
public struct FrameDecoder: Sendable {
    /// The side this decoder runs on; it accepts only frames the other side sends.
    public let receiver: Endpoint
    /// The sizes it accepts.
    public let limits: FrameLimits

    private var buffer: [UInt8] = []
    /// Bytes of `buffer` before this index are consumed.
    private var readIndex = 0
    private var failure: ProtocolError?

    /// A decoder for the `receiver` side: a server decodes with `.server` (and should pass
    /// `.clientFrames` limits), a client with `.client`.
    public init(receiver: Endpoint, limits: FrameLimits = .protocolMaximum) {
        self.receiver = receiver
        self.limits = limits
    }

    /// Bytes appended and not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Bytes the buffer holds room for (for memory accounting per connection).
    public var bufferCapacity: Int { buffer.capacity }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, !bytes.isEmpty else { return }
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        guard failure == nil, !bytes.isEmpty else { return }
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil when more bytes are needed.
    public mutating func next() throws(ProtocolError) -> DecodedFrame? {
        if let failure { throw failure }
        guard bufferedByteCount >= ProtocolConstants.lengthFieldSize else { return nil }
        let start = readIndex
        let length = buffer.withUnsafeBytes { FrameHeader.length(in: $0, at: start) }
        guard length >= ProtocolConstants.frameLengthMin else { throw fail(.frameTooShort(length: length)) }
        guard length <= limits.frameLengthMax else {
            throw fail(.frameTooLarge(length: length, limit: limits.frameLengthMax))
        }
        let frameSize = ProtocolConstants.lengthFieldSize + length
        guard bufferedByteCount >= frameSize else { return nil }
        // Consume the frame before decoding it: a bad body leaves the stream at the next frame.
        readIndex += frameSize
        let (receiver, limits) = (receiver, limits)
        let result = buffer.withUnsafeBytes { raw in
            Result { () throws(ProtocolError) in
                let frame = UnsafeRawBufferPointer(rebasing: raw[start ..< start + frameSize])
                return try FrameDecoder.decode(frame: frame, receiver: receiver, limits: limits)
            }
        }
        releaseIfDrained()
        return try result.get()
    }

    /// Decodes exactly one whole frame, whose length field the caller has checked says
    /// `frame.count - 4`: the pure core of `next()`.
    static func decode(
        frame: UnsafeRawBufferPointer, receiver: Endpoint, limits: FrameLimits = .protocolMaximum
    ) throws(ProtocolError) -> DecodedFrame {
        let header = FrameHeader(reading: frame)
        precondition(header.length == frame.count - ProtocolConstants.lengthFieldSize, "frame bounds")
        let type = try checkedType(of: header, receiver: receiver)
        let body = UnsafeRawBufferPointer(rebasing: frame[ProtocolConstants.frameHeaderSize...])
        var reader = WireReader(body: body, frameType: type, requestID: header.requestID, limits: limits)
        let decoded = try Frame.decodeBody(type, from: &reader)
        try reader.finish()
        return DecodedFrame(requestID: header.requestID, frame: decoded)
    }

    /// The header's frame type, after checking everything the header alone decides.
    private static func checkedType(of header: FrameHeader, receiver: Endpoint) throws(ProtocolError) -> FrameType {
        let requestID = header.requestID
        guard let type = FrameType(rawValue: header.type) else {
            throw ProtocolError(.unknownFrameType(header.type), requestID: requestID)
        }
        func error(_ kind: ProtocolError.Kind) -> ProtocolError {
            ProtocolError(kind, frameType: type, requestID: requestID)
        }
        guard type.isSent(by: receiver.peer) else { throw error(.unexpectedFrameType(type)) }
        guard header.flags == 0 else { throw error(.reservedBitsSet(offset: 5)) }
        guard header.reserved == 0 else { throw error(.reservedBitsSet(offset: 6)) }
        guard FrameEncoder.requestIDIsValid(requestID, for: type) else { throw error(.invalidRequestID(requestID)) }
        return type
    }

    /// Enters the failed state: the stream has no known next frame boundary.
    private mutating func fail(_ kind: ProtocolError.Kind) -> ProtocolError {
        let error = ProtocolError(kind)
        failure = error
        buffer = []
        readIndex = 0
        return error
    }

    /// Drops consumed bytes when they are at least as many as the unconsumed ones, so the bytes
    /// moved never exceed the bytes consumed (amortized O(1) per byte).
    private mutating func compactIfWorthwhile() {
        guard readIndex > 0, readIndex >= buffer.count - readIndex else { return }
        buffer.removeSubrange(0 ..< readIndex)
        readIndex = 0
    }

    /// Empties a fully consumed buffer, releasing it if a large frame left it big.
    private mutating func releaseIfDrained() {
        guard readIndex == buffer.count else { return }
        if buffer.capacity > ProtocolConstants.decoderRetainedCapacityMax {
            buffer = []
        } else {
            buffer.removeAll(keepingCapacity: true)
        }
        readIndex = 0
    }
}
