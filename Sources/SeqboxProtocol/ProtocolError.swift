/// Why bytes from the peer are not a valid frame (PROTOCOL.md §2 "Framing" and §5 say what is
/// valid). Thrown by `FrameDecoder.next()`.
///
/// Two families: when `isFramingLost` the decoder cannot find the next frame boundary and stays
/// failed (the connection must close); otherwise the bad frame was consumed whole and decoding
/// may continue with the next frame (the server does so only for `payloadTooLarge`, §9).
public struct ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Hashable, Sendable {
        /// The length field is below `ProtocolConstants.frameLengthMin`.
        case frameTooShort(length: Int)
        /// The length field is above the decoder's `FrameLimits.frameLengthMax`.
        case frameTooLarge(length: Int, limit: Int)
        /// The type byte names no frame type of this version.
        case unknownFrameType(UInt8)
        /// A known frame type that the receiving side never receives (e.g. PULL_OK at a server).
        case unexpectedFrameType(FrameType)
        /// A reserved field or an undefined flag bit is not zero; `offset` is the byte's or
        /// field's offset from the start of the frame (the length field is offset 0).
        case reservedBitsSet(offset: Int)
        /// The request ID breaks the frame type's `FrameType.RequestIDRule`.
        case invalidRequestID(UInt32)
        /// The body ends before its last field.
        case shortBody
        /// The body continues after its last field.
        case trailingBytes(count: Int)
        /// A SEND, PULL_OK record or STORE_APPEND message body is above
        /// `FrameLimits.messageBodySizeMax`.
        case payloadTooLarge(length: Int, limit: Int)
        /// A length-prefixed field (a LOGIN or push token, an ERROR message, a statistic name)
        /// or a count (STORE_APPEND groups or messages) is above its limit in `ProtocolConstants`.
        case fieldTooLarge(length: Int, limit: Int)
        /// An ERROR message is not valid UTF-8.
        case invalidUTF8
        /// HELLO does not start with `ProtocolConstants.helloMagic`.
        case badMagic(UInt32)
        /// A field holds a value this version does not define: an unknown push platform, a count
        /// or length of 0 where at least 1 is required, a statistic name outside `[a-z0-9_]`.
        /// `offset` is the field's offset from the start of the frame.
        case invalidValue(offset: Int)
    }

    /// What is wrong.
    public var kind: Kind
    /// The frame's type, when the header was read and the type is known.
    public var frameType: FrameType?
    /// The frame's request ID, when the header was read; else 0. A server echoes it in its ERROR.
    public var requestID: UInt32

    public init(_ kind: Kind, frameType: FrameType? = nil, requestID: UInt32 = 0) {
        self.kind = kind
        self.frameType = frameType
        self.requestID = requestID
    }

    /// True when the stream has no known next frame boundary: the decoder stays failed.
    public var isFramingLost: Bool {
        switch kind {
        case .frameTooShort, .frameTooLarge: true
        default: false
        }
    }

    /// The code a server puts in the ERROR it answers this with.
    public var errorCode: ErrorCode {
        switch kind {
        case .frameTooLarge: .frameTooLarge
        case .payloadTooLarge: .payloadTooLarge
        default: .badFrame
        }
    }

    public var description: String {
        let frame = frameType.map { " in \($0.name)" } ?? ""
        return "\(kind)\(frame) (request \(requestID))"
    }
}
