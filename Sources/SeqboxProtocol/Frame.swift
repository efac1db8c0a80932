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
    /// PUSH_REGISTER (§5.19): the logged-in device's push token.
    case pushRegister(PushRegister)
    /// PUSH_UNREGISTER (§5.20): forget the logged-in device's push token.
    case pushUnregister(PushUnregister)
    /// PUSH_OK (§5.21): the answer to PUSH_REGISTER and PUSH_UNREGISTER.
    case pushOK(PushOK)

    // Storage RPC (§14): a gateway's requests to a storage node, and the node's own answers.

    /// STORE_APPEND (§14.3): groups of messages, each group one atomic append.
    case storeAppend(StoreAppend)
    /// STORE_APPEND_OK (§14.4): one result per group.
    case storeAppendOK(StoreAppendOK)
    /// STORE_PULL (§14.5): a PULL of any user's mailbox.
    case storePull(StorePull)
    /// STORE_LOGIN_STATE (§14.6): a mailbox's state for a LOGIN.
    case storeLoginState(StoreLoginState)
    /// STORE_ACK (§14.7): an ACK for any user's device.
    case storeAck(StoreAck)
    /// STORE_BLOCK (§14.8): a BLOCK or UNBLOCK for any user.
    case storeBlock(StoreBlock)
    /// STORE_CURSOR (§14.9): a device's cursor.
    case storeCursor(StoreCursor)
    /// STORE_NEWEST (§14.10): a mailbox's seq state.
    case storeNewest(StoreNewest)
    /// STORE_NEWEST_OK (§14.11): the answer to STORE_NEWEST.
    case storeNewestOK(StoreNewestOK)
    /// STORE_STATS (§14.12): the node's counters, please.
    case storeStats(StoreStats)
    /// STORE_STATS_OK (§14.13): the node's counters.
    case storeStatsOK(StoreStatsOK)

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
