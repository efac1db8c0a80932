import SeqboxFormat
import SeqboxProtocol
import SeqboxStore

/// Where the service keeps mailboxes: the seam between the send, push and receive paths and
/// the storage engine. Two forms exist:
/// - `EmbeddedMailboxBackend`: the store in this process (`--role all`, the default, and the
///   storage node's own side of the storage RPC);
/// - the remote form of the gateway role: users sharded across storage nodes, reached over the
///   storage RPC (PROTOCOL.md §14).
///
/// Every operation is asynchronous and answers once, through `completion`, on a thread of the
/// backend's choosing (the store's writer, a blocklist queue, a storage client's loop). Failures
/// come back as the ERROR the client should see: the service forwards them as they are.
/// Completions must not block.
public protocol MailboxBackend: AnyObject, Sendable {
    /// The shard holding `user`'s mailbox. Appends to mailboxes of one shard can be one atomic
    /// group; the embedded form has a single shard, 0.
    func shard(of user: UserID) -> Int

    /// The mailbox state a LOGIN answers with (PROTOCOL.md §5.4): newest, confirmed and first
    /// seq, the epoch, and `device`'s cursor, or the starting point of a device without one
    /// (the confirmed seq, or the first retained seq minus one with `fullHistory`).
    func loginState(user: UserID, device: DeviceID, fullHistory: Bool,
                    completion: @escaping @Sendable (Result<Frame.LoginOK, Frame.ErrorReport>) -> Void)

    /// Appends `group` atomically and durably. Every message of a group lives on one shard.
    /// Answers one `StoredCopy` per message, in order; a message already stored (same
    /// idempotency key within the store's window) is answered with its original seq and
    /// timestamp and `duplicate` set. With `refuseIfBlocked`, a group whose incoming message's
    /// owner blocks its sender is refused with `blocked` and nothing is stored.
    func append(_ group: AppendGroup, completion: @escaping @Sendable (Result<[StoredCopy], Frame.ErrorReport>) -> Void)

    /// PULL for `user` (PROTOCOL.md §5.7–5.9): PULL_OK or TRUNCATED. `limit` is already
    /// clamped by the service; the answer's frame stays within `frameLengthMax`.
    func pull(user: UserID, _ pull: Frame.Pull, limit: Int, frameLengthMax: Int,
              completion: @escaping @Sendable (Result<Frame, Frame.ErrorReport>) -> Void)

    /// ACK: moves `device`'s cursor to max(cursor, seq) durably and answers the cursor.
    /// A seq beyond the newest is `badRequest`.
    func ack(user: UserID, device: DeviceID, seq: Seq,
             completion: @escaping @Sendable (Result<Seq, Frame.ErrorReport>) -> Void)

    /// BLOCK / UNBLOCK of `other` in `user`'s blocklist, durably.
    func setBlocked(user: UserID, other: UserID, blocked: Bool,
                    completion: @escaping @Sendable (Result<Void, Frame.ErrorReport>) -> Void)
}

/// One atomic append: the copies of one SEND that live on the same shard.
public struct AppendGroup: Sendable {
    public var messages: [NewMessage]
    /// Refuse the group with `blocked` when the owner of its incoming (not outgoing) message
    /// blocks that message's sender.
    public var refuseIfBlocked: Bool

    public init(messages: [NewMessage], refuseIfBlocked: Bool) {
        self.messages = messages
        self.refuseIfBlocked = refuseIfBlocked
    }
}

/// Where one appended message landed.
public struct StoredCopy: Hashable, Sendable {
    public var seq: Seq
    /// The message was stored before (a retried SEND): `seq` and `timestampMs` are the original's.
    public var duplicate: Bool
    /// The mailbox's wire epoch after the append.
    public var epoch: UInt32
    /// The timestamp the message is stored with.
    public var timestampMs: UInt64

    public init(seq: Seq, duplicate: Bool, epoch: UInt32, timestampMs: UInt64) {
        self.seq = seq
        self.duplicate = duplicate
        self.epoch = epoch
        self.timestampMs = timestampMs
    }
}

extension MailboxBackend {
    /// Stores a SEND: the recipient's copy and the sender's outgoing copy. On one shard they are
    /// one atomic group. Across shards the recipient's copy goes first (with the blocklist
    /// check), then the outgoing copy; a failure of the second answers the error, and the
    /// client's retry (same client message ID) finds the first copy already stored
    /// (`duplicate`) and stores the missing one, so nothing is lost or stored twice.
    public func storeSend(incoming: NewMessage, outgoing: NewMessage,
                          completion: @escaping @Sendable (Result<(received: StoredCopy, sent: StoredCopy), Frame.ErrorReport>) -> Void) {
        if shard(of: incoming.user) == shard(of: outgoing.user) {
            append(AppendGroup(messages: [incoming, outgoing], refuseIfBlocked: true)) { result in
                completion(result.map { ($0[0], $0[1]) })
            }
            return
        }
        append(AppendGroup(messages: [incoming], refuseIfBlocked: true)) { [self] first in
            switch first {
            case .failure(let error):
                completion(.failure(error))
            case .success(let received):
                append(AppendGroup(messages: [outgoing], refuseIfBlocked: false)) { second in
                    completion(second.map { (received[0], $0[0]) })
                }
            }
        }
    }
}
