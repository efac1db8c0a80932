import SeqboxFormat

/// A message to append to `user`'s mailbox.
public struct NewMessage: Sendable, Equatable {
    /// The mailbox owner (the recipient, or the sender for its own outgoing copy).
    public var user: UserID
    /// The other party: the sender of an incoming message; for an outgoing copy (the mailbox
    /// owner sent it), the recipient. Stored in the record's `sender` field either way.
    public var sender: UserID
    /// The device the message was sent from.
    public var device: DeviceID
    /// With `sender` and `device`, the idempotency key of the append.
    public var clientMessageID: ClientMessageID
    public var timestampMs: UInt64
    public var payload: [UInt8]
    /// The sender's own copy, kept so its other devices sync what it sent.
    public var outgoing: Bool

    public init(
        user: UserID, sender: UserID, device: DeviceID, clientMessageID: ClientMessageID,
        timestampMs: UInt64, payload: [UInt8], outgoing: Bool = false
    ) {
        self.user = user
        self.sender = sender
        self.device = device
        self.clientMessageID = clientMessageID
        self.timestampMs = timestampMs
        self.payload = payload
        self.outgoing = outgoing
    }
}

/// The outcome of one append: its seq, and whether an earlier append with the same key
/// already stored it (then nothing new was written).
public struct AppendResult: Sendable, Equatable, CustomStringConvertible {
    public var seq: Seq
    public var duplicate: Bool
    public init(seq: Seq, duplicate: Bool) {
        self.seq = seq
        self.duplicate = duplicate
    }
    public var description: String { duplicate ? "\(seq) (duplicate)" : "\(seq)" }
}

/// A message read back from a mailbox.
public struct StoredMessage: Sendable, Equatable {
    public var seq: Seq
    public var sender: UserID
    public var device: DeviceID
    public var clientMessageID: ClientMessageID
    public var timestampMs: UInt64
    public var outgoing: Bool
    public var payload: [UInt8]

    public init(seq: Seq, sender: UserID, device: DeviceID, clientMessageID: ClientMessageID, timestampMs: UInt64, outgoing: Bool, payload: [UInt8]) {
        self.seq = seq
        self.sender = sender
        self.device = device
        self.clientMessageID = clientMessageID
        self.timestampMs = timestampMs
        self.outgoing = outgoing
        self.payload = payload
    }
}

/// A borrowed view of one message during `MailboxStore.visit`; `storedPayload` is valid only
/// inside the visitor call.
public struct MessageView {
    public let header: RecordHeader
    public let storedPayload: UnsafeRawBufferPointer

    public var seq: Seq { header.seq }
    /// The payload as sent (decompressed if it was stored compressed).
    public func payload() -> [UInt8]? {
        header.isCompressed ? Compression.decompress(storedPayload, rawLength: Int(header.rawLength)) : Array(storedPayload)
    }
}

/// How a read went.
public enum ReadStatus: Sendable, Equatable {
    /// The records after `after` (possibly none: the client is up to date).
    case ok
    /// `after + 1` is below the retained range; the oldest retained seq is `firstAvailable`.
    case truncated(firstAvailable: Seq)
    /// Seqs `first...last` were lost to corruption (store opened with `.openWithLoss`).
    case lost(first: Seq, last: Seq)
}

/// The answer to `read(user:after:limit:maxBytes:)`.
public struct ReadResult: Sendable, Equatable {
    public var status: ReadStatus
    public var messages: [StoredMessage]
    public var newestSeq: Seq
    public var epoch: Epoch
    /// True when seqs beyond the last returned one exist.
    public var hasMore: Bool
}

/// What `visit` saw, besides the messages it handed to the visitor.
public struct VisitSummary: Sendable, Equatable {
    public var status: ReadStatus
    public var count: Int
    public var lastSeq: Seq
    public var newestSeq: Seq
    public var epoch: Epoch
    public var hasMore: Bool
}

/// A mailbox's head state.
public struct MailboxInfo: Sendable, Equatable {
    public var newestSeq: Seq
    /// The oldest retained seq (newestSeq + 1 when nothing is retained).
    public var firstAvailable: Seq
    public var epoch: Epoch
    /// The highest seq any of the user's devices has acknowledged.
    public var confirmedSeq: Seq
}

/// Counts for monitoring and benchmarks.
public struct StoreStats: Sendable, Equatable {
    public var users: Int
    public var indexedMessages: Int
    public var segments: Int
    public var logBytes: Int64
    public var dedupEntries: Int
    public var appendedRecords: UInt64
    public var syncs: UInt64
    public var batches: UInt64
    public var checkpoints: UInt64
    /// Reads that found a record failing its checksum (answered as `.lost`; run seqbox-fsck).
    public var damagedReads: UInt64
}
