/// Every constant of the wire protocol, in one place. Each names the PROTOCOL.md section that
/// specifies it. All integers on the wire are little-endian.
///
/// Relationships between constants are checked by `ProtocolConstantsTests` and by
/// `FrameLimits.init`'s preconditions.
public enum ProtocolConstants {
    // MARK: Versions (PROTOCOL.md §3 "Handshake")

    /// The protocol version this module speaks. HELLO offers a range; the server picks one.
    public static let protocolVersion: UInt16 = 1
    /// The oldest protocol version this module can still speak.
    public static let protocolVersionMin: UInt16 = 1
    /// HELLO magic: the bytes `53 51 42 58` (ASCII "SQBX") read as a little-endian u32.
    /// A first frame without it is not a Seqbox client; the server closes.
    public static let helloMagic: UInt32 = 0x5842_5153

    // MARK: Framing (PROTOCOL.md §2 "Framing")

    /// Size of the frame length field, the first bytes of every frame.
    public static let lengthFieldSize = 4
    /// Frame header size, the length field included. Layout (offsets in bytes):
    /// 0 length u32 (bytes after this field) | 4 type u8 | 5 flags u8 (0) | 6 reserved u16 (0) |
    /// 8 requestID u32 | 12 body.
    public static let frameHeaderSize = 12
    /// Smallest valid value of the length field: the header after the length field, no body.
    public static let frameLengthMin = frameHeaderSize - lengthFieldSize
    /// Largest value of the length field this protocol allows: 1 MiB of PULL_OK records plus
    /// 64 KiB of headroom, so a PULL_OK always fits at least one maximal record
    /// (PROTOCOL.md §5.8). A decoder rejects larger declared lengths before buffering them.
    public static let frameLengthMax = (1 << 20) + (64 << 10)
    /// Byte offset of the frame type in the header.
    public static let frameTypeOffset = 4
    /// Byte offset of the request ID in the header.
    public static let requestIDOffset = 8

    // MARK: Bodies and fields (PROTOCOL.md §6 "Limits")

    /// Largest SEND body (and so PULL_OK record body): 64 KiB.
    public static let messageBodySizeMax = 64 << 10
    /// Largest LOGIN token. Tokens of this version are `LoginToken.encodedSize` bytes; the rest
    /// is room for later token formats.
    public static let tokenSizeMax = 256
    /// Largest ERROR message, in UTF-8 bytes. Longer messages are cut at a character boundary.
    public static let errorMessageSizeMax = 1024
    /// Largest number of records in one PULL_OK the protocol allows (the count is a u16).
    /// Servers advertise their own, possibly smaller, `pullLimitMax` in HELLO_OK.
    public static let pullLimitMax = Int(UInt16.max)
    /// Default records per PULL_OK a server advertises in HELLO_OK.
    public static let defaultPullLimit = 256
    /// Default requests a client may have in flight on one connection (HELLO_OK).
    public static let defaultRequestsInFlightMax = 64

    // MARK: Frame bodies (PROTOCOL.md §5)

    /// HELLO: magic u32 | versionMin u16 | versionMax u16.
    public static let helloBodySize = 8
    /// HELLO_OK: version u16 | pullLimitMax u16 | frameLengthMax u32 | messageBodySizeMax u32 |
    /// heartbeatIntervalMs u32 | idleTimeoutMs u32 | requestsInFlightMax u16 | reserved u16.
    public static let helloOKBodySize = 24
    /// LOGIN fixed part: user u64 | device u64 | flags u8 | reserved u8 | tokenLength u16,
    /// then the token.
    public static let loginFixedSize = 20
    /// LOGIN_OK: newestSeq u32 | confirmedSeq u32 | deviceCursor u32 | firstSeq u32 | epoch u32.
    public static let loginOKBodySize = 20
    /// SEND fixed part: to u64 | clientMessageID u64 | bodyLength u32, then the body.
    public static let sendFixedSize = 20
    /// SEND_OK: seq u32 | outgoingSeq u32 | timestampMs u64 | flags u8 | reserved u8 | reserved u16.
    public static let sendOKBodySize = 20
    /// PULL: after u32 | epoch u32 | limit u16 | reserved u16.
    public static let pullBodySize = 12
    /// PULL_OK fixed part: newestSeq u32 | epoch u32 | flags u8 | reserved u8 | recordCount u16,
    /// then the records.
    public static let pullOKFixedSize = 12
    /// One PULL_OK record before its body: seq u32 | flags u8 | reserved u8 | reserved u16 |
    /// peer u64 | senderDevice u64 | clientMessageID u64 | timestampMs u64 | bodyLength u32.
    public static let pullRecordFixedSize = 44
    /// TRUNCATED: firstSeq u32 | newestSeq u32 | epoch u32.
    public static let truncatedBodySize = 12
    /// NOTIFY: newestSeq u32 | epoch u32.
    public static let notifyBodySize = 8
    /// ACK: seq u32.
    public static let ackBodySize = 4
    /// ACK_OK: seq u32 (the device cursor after the ACK).
    public static let ackOKBodySize = 4
    /// BLOCK and UNBLOCK: user u64.
    public static let blockBodySize = 8
    /// BLOCK_OK: user u64 | flags u8 | reserved u8 | reserved u16.
    public static let blockOKBodySize = 12
    /// PING and PONG: nonce u64.
    public static let pingBodySize = 8
    /// ERROR fixed part: code u16 | flags u8 | reserved u8 | retryAfterMs u32 | messageLength u16,
    /// then the message.
    public static let errorFixedSize = 10
    /// GOODBYE: reason u16 | reserved u16 | reconnectAfterMs u32.
    public static let goodbyeBodySize = 8

    // MARK: Flag bits (PROTOCOL.md §5)

    /// LOGIN flag: a device without a cursor starts at the first retained seq, not at the
    /// user's confirmed seq.
    public static let loginFlagFullHistory: UInt8 = 0x01
    /// SEND_OK flag: the client message ID was already stored; `seq` is the original one.
    public static let sendOKFlagDuplicate: UInt8 = 0x01
    /// PULL_OK flag: records after the last one returned exist; pull again.
    public static let pullOKFlagHasMore: UInt8 = 0x01
    /// PULL_OK record flag: the record is the mailbox owner's own outgoing copy.
    public static let recordFlagOutgoing: UInt8 = 0x01
    /// BLOCK_OK flag: the user is blocked now (clear: unblocked).
    public static let blockOKFlagBlocked: UInt8 = 0x01
    /// ERROR flag: the server closes the connection after this frame.
    public static let errorFlagClosing: UInt8 = 0x01

    // MARK: Offline push (PROTOCOL.md §5.19–§5.21)

    /// Largest PUSH_REGISTER token. APNs device tokens are 32 bytes and FCM registration tokens
    /// a few hundred ASCII characters; the rest is room for longer formats.
    public static let pushTokenSizeMax = 512
    /// PUSH_REGISTER fixed part: platform u8 | reserved u8 | tokenLength u16, then the token.
    public static let pushRegisterFixedSize = 4
    /// PUSH_UNREGISTER: no fields.
    public static let pushUnregisterBodySize = 0
    /// PUSH_OK: flags u8 | reserved u8 | reserved u16.
    public static let pushOKBodySize = 4
    /// PUSH_OK flag: the device has a push token registered now (clear: none).
    public static let pushOKFlagRegistered: UInt8 = 0x01

    // MARK: Storage RPC (PROTOCOL.md §14 "Storage RPC")

    /// Most groups in one STORE_APPEND (and so results in one STORE_APPEND_OK).
    public static let storeAppendGroupsMax = 1024
    /// Most messages in one STORE_APPEND group: one append's worth (a message and its copies).
    public static let storeAppendGroupMessagesMax = 8
    /// STORE_APPEND fixed part: groupCount u16, then the groups.
    public static let storeAppendFixedSize = 2
    /// One STORE_APPEND group before its messages: flags u8 | messageCount u8.
    public static let storeAppendGroupFixedSize = 2
    /// One STORE_APPEND message before its body: user u64 | sender u64 | device u64 |
    /// clientMessageID u64 | timestampMs u64 | flags u8 | reserved u8 | reserved u16 | bodyLength u32.
    public static let storeMessageFixedSize = 48
    /// STORE_APPEND group flag: refuse the whole group with `blocked` when an incoming message's
    /// mailbox owner blocks its sender.
    public static let storeAppendGroupFlagRefuseIfBlocked: UInt8 = 0x01
    /// STORE_APPEND message flag: the message is the mailbox owner's own outgoing copy.
    public static let storeMessageFlagOutgoing: UInt8 = 0x01
    /// STORE_APPEND_OK fixed part: resultCount u16, then the results.
    public static let storeAppendOKFixedSize = 2
    /// STORE_APPEND_OK result status: the group is stored; copies follow.
    public static let storeGroupStatusStored: UInt8 = 0
    /// STORE_APPEND_OK result status: nothing of the group is stored; an ERROR body follows.
    public static let storeGroupStatusFailed: UInt8 = 1
    /// A stored STORE_APPEND_OK result before its copies: status u8 | copyCount u8.
    public static let storeGroupStoredFixedSize = 2
    /// A failed STORE_APPEND_OK result before its ERROR body: status u8.
    public static let storeGroupFailedFixedSize = 1
    /// One stored copy: seq u32 | flags u8 | reserved u8 | reserved u16 | epoch u32 | timestampMs u64.
    public static let storeCopySize = 20
    /// Stored copy flag: the message had been stored before; the fields are the original ones.
    public static let storeCopyFlagDuplicate: UInt8 = 0x01
    /// STORE_PULL: user u64 | after u32 | epoch u32 | limit u16 | reserved u16 | frameLengthMax u32.
    public static let storePullBodySize = 24
    /// STORE_LOGIN_STATE: user u64 | device u64 | flags u8 | reserved u8 | reserved u16.
    public static let storeLoginStateBodySize = 20
    /// STORE_LOGIN_STATE flag: as LOGIN's `fullHistory`.
    public static let storeLoginStateFlagFullHistory: UInt8 = 0x01
    /// STORE_ACK: user u64 | device u64 | seq u32.
    public static let storeAckBodySize = 20
    /// STORE_BLOCK: user u64 | other u64 | flags u8 | reserved u8 | reserved u16.
    public static let storeBlockBodySize = 20
    /// STORE_BLOCK flag: block `other` (clear: unblock).
    public static let storeBlockFlagBlocked: UInt8 = 0x01
    /// STORE_CURSOR: user u64 | device u64.
    public static let storeCursorBodySize = 16
    /// STORE_NEWEST: user u64.
    public static let storeNewestBodySize = 8
    /// STORE_NEWEST_OK: newestSeq u32 | firstSeq u32 | confirmedSeq u32 | epoch u32.
    public static let storeNewestOKBodySize = 16
    /// STORE_STATS: no fields.
    public static let storeStatsBodySize = 0
    /// STORE_STATS_OK fixed part: count u16, then the statistics.
    public static let storeStatsOKFixedSize = 2
    /// One statistic before its name: nameLength u8 (and, after the name, value u64).
    public static let storeStatisticFixedSize = 9
    /// Most statistics in one STORE_STATS_OK.
    public static let storeStatisticsMax = 256
    /// Longest statistic name, in bytes (each of `a`–`z`, `0`–`9`, `_`).
    public static let storeStatisticNameSizeMax = 64

    // MARK: Timers (PROTOCOL.md §7 "Heartbeats, timeouts and retries")

    /// Default interval after which a client with nothing else to send sends PING.
    public static let defaultHeartbeatIntervalMs: UInt32 = 30_000
    /// Default time without any frame from a client after which the server closes it with
    /// ERROR(idleTimeout). Three heartbeats, so one lost PING is not fatal.
    public static let defaultIdleTimeoutMs: UInt32 = 90_000
    /// Time the server allows from connect to LOGIN_OK; then it closes.
    public static let handshakeTimeoutMs: UInt32 = 10_000
    /// Time a client waits for a reply before treating the request (and the connection) as lost.
    public static let replyTimeoutMs: UInt32 = 10_000
    /// First reconnect delay; doubles on each failed attempt (full jitter).
    public static let reconnectBackoffInitialMs: UInt32 = 500
    /// Largest reconnect delay.
    public static let reconnectBackoffMaxMs: UInt32 = 60_000
    /// A resent SEND is recognized as a duplicate (same seqs, duplicate flag) while its original
    /// is among the server store's most recent this-many appends (the store's idempotency
    /// window, `StoreOptions.dedupWindowEntries`). Clients sync before resending (PROTOCOL.md
    /// §10), which keeps resends exact beyond the window.
    public static let sendRetryWindowAppends: Int = 1 << 20

    // MARK: Login tokens (PROTOCOL.md §8 "Login tokens")

    /// Token format version (its first byte).
    public static let tokenVersion: UInt8 = 1
    /// Token: version u8 | expiresAtSeconds u64 | mac (32 bytes, HMAC-SHA256).
    public static let tokenSize = 41
    /// Size of the token's MAC (HMAC-SHA256).
    public static let tokenMACSize = 32
    /// Bytes the MAC covers: version u8 | user u64 | device u64 | expiresAtSeconds u64.
    public static let tokenMACInputSize = 25

    // MARK: Decoder memory (PROTOCOL.md §6 "Limits")

    /// A decoder whose buffer drains keeps at most this much capacity; a larger buffer (left by
    /// a large frame) is released so idle connections stay small.
    public static let decoderRetainedCapacityMax = 64 << 10
}
