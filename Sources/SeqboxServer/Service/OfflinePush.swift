import SeqboxFormat

/// Where the push path hands a mailbox's new tip when none of its owner's connections is live
/// (PROTOCOL.md §1: the server pushes only a seq). A webhook or mobile-push gateway implements
/// it; the server calls it once per durable append to an offline recipient.
///
/// Called on the backend's completion thread: implementations must return at once (queue the
/// work, coalesce per user, deliver elsewhere) and must never block.
public protocol OfflinePushGateway: Sendable {
    /// `user`'s mailbox grew to `newestSeq` in `epoch` (a message from `sender`) while no
    /// connection of theirs was live.
    func mailboxGrew(user: UserID, newestSeq: Seq, epoch: UInt32, sender: UserID)
    /// A device of `user` logged in: its pending tips may be cancelled.
    func userConnected(user: UserID, device: DeviceID)
}

/// The offline push of this build: it logs each tip at `debug` level and delivers nothing.
public struct LoggingOfflinePush: OfflinePushGateway {
    private let log: ServerLog

    public init(log: ServerLog) { self.log = log }

    public func mailboxGrew(user: UserID, newestSeq: Seq, epoch: UInt32, sender: UserID) {
        log.debug("offline_push", "user=\(user) newest_seq=\(newestSeq) epoch=\(epoch) sender=\(sender)")
    }

    public func userConnected(user: UserID, device: DeviceID) {}
}
