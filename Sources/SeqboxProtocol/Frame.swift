/// One protocol message: its type and decoded body (PROTOCOL.md §5). The request ID travels
/// beside it, in `DecodedFrame` and in `FrameEncoder.encode(_:requestID:)`.
public enum Frame: Hashable, Sendable {
    /// HELLO (§5.1): the client's protocol versions. Always the first frame.
    case hello(Hello)
    /// HELLO_OK (§5.2): the chosen version and the server's limits.
    case helloOK(HelloOK)
    /// LOGIN (§5.3): user, device and token.
    case login(Login)
    /// LOGIN_OK (§5.4): the mailbox's state at login.
    case loginOK(LoginOK)
    /// SEND (§5.5): a message for another user's mailbox.
    case send(Send)
    /// SEND_OK (§5.6): the message is durable under these seqs.
    case sendOK(SendOK)
    /// PULL (§5.7): the records after a seq, please.
    case pull(Pull)
    /// PULL_OK (§5.8): records, in seq order.
    case pullOK(PullOK)
    /// TRUNCATED (§5.9): the PULL's range is gone (retention) or from an old epoch.
    case truncated(Truncated)
    /// NOTIFY (§5.10): the mailbox grew; request ID 0.
    case notify(Notify)
    /// ACK (§5.11): this device holds everything up to a seq.
    case ack(Ack)
    /// ACK_OK (§5.12): the device cursor is durable.
    case ackOK(AckOK)
    /// BLOCK (§5.13): refuse messages from a user.
    case block(Block)
    /// UNBLOCK (§5.14): accept messages from a user again.
    case unblock(Unblock)
    /// BLOCK_OK (§5.15): the answer to BLOCK and UNBLOCK.
    case blockOK(BlockOK)
    /// PING (§5.16): a heartbeat.
    case ping(Ping)
    /// PONG (§5.16): the answer to PING.
    case pong(Pong)
    /// ERROR (§5.17, §9): a failed request or a closing connection.
    case error(ErrorReport)
    /// GOODBYE (§5.18): a clean close, from either side; request ID 0.
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
