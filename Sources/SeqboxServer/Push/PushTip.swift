import SeqboxFormat

/// A user's pending offline push: their mailbox grew to `newestSeq` while none of their
/// connections was live. Tips of one user coalesce: the newest wins.
public struct PushTip: Hashable, Sendable {
    public var user: UserID
    public var newestSeq: Seq
    public var epoch: UInt32
    /// The sender of the newest message.
    public var sender: UserID
    /// The newest message's first bytes (UTF-8 cut), when previews are on. Held in memory only:
    /// the outbox does not keep message content, so a tip recovered after a restart has none.
    public var preview: [UInt8]?

    public init(user: UserID, newestSeq: Seq, epoch: UInt32, sender: UserID, preview: [UInt8]? = nil) {
        self.user = user
        self.newestSeq = newestSeq
        self.epoch = epoch
        self.sender = sender
        self.preview = preview
    }

    /// Whether `other` is newer: a later epoch, or a higher seq within one.
    func isOlder(than other: PushTip) -> Bool {
        epoch < other.epoch || (epoch == other.epoch && newestSeq < other.newestSeq)
    }

    /// The newer of the two (this one on a tie).
    func merged(with other: PushTip) -> PushTip {
        isOlder(than: other) ? other : self
    }
}
