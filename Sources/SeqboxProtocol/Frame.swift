/// One protocol message: its type and decoded body (PROTOCOL.md §5). The request ID travels
/// beside it, in `DecodedFrame` and in `FrameEncoder.encode(_:requestID:)`.
public enum Frame: Hashable, Sendable {
    case hello(Hello)
    case helloOK(HelloOK)
    case login(Login)
    case loginOK(LoginOK)
    case send(Send)
    case sendOK(SendOK)
    case pull(Pull)
    case pullOK(PullOK)
    case truncated(Truncated)
    case notify(Notify)
    case ack(Ack)
    case ackOK(AckOK)
    case block(Block)
    case unblock(Unblock)
    case blockOK(BlockOK)
    case ping(Ping)
    case pong(Pong)
    case error(ErrorReport)
    case goodbye(Goodbye)

    /// The header's type byte for this frame.
    public var type: FrameType { payload.frameType }

    /// Throws what a decoder with `limits` would throw for this frame's field sizes (a SEND body
    /// above `messageBodySizeMax`, a token above `tokenSizeMax`, …). Call it before encoding
    /// values from outside, since `FrameEncoder` treats an invalid frame as a programming error.
    public func validate(limits: FrameLimits = .protocolMaximum) throws(ProtocolError) {
        try payload.validate(limits: limits)
        let length = ProtocolConstants.frameLengthMin + payload.bodySize
        guard length <= limits.frameLengthMax else {
            throw ProtocolError(.frameTooLarge(length: length, limit: limits.frameLengthMax), frameType: type)
        }
    }
}
