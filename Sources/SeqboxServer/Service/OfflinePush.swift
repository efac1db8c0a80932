import SeqboxFormat
import SeqboxProtocol

/// Where the push path hands a mailbox's new tip when none of its owner's connections is live
/// (PROTOCOL.md §1: the server pushes only a seq), and where PUSH_REGISTER / PUSH_UNREGISTER
/// keep device tokens (§5.19–5.21). The server's implementation is `PushRuntime`'s gateway
/// (a webhook towards APNs/FCM relays, README.md "Offline push").
///
/// `mailboxGrew` and `userConnected` are called on the backend's completion thread and the
/// event loops: implementations must return at once (queue the work, coalesce per user,
/// deliver elsewhere) and must never block.
public protocol OfflinePushGateway: Sendable {
    /// Largest preview `mailboxGrew` wants, in bytes; 0: previews off, the service does not
    /// keep message bodies for the push path.
    var previewBytesMax: Int { get }
    /// `user`'s mailbox grew to `newestSeq` in `epoch` (a message from `sender`) while no
    /// connection of theirs was live. `preview` is the message's first bytes (a UTF-8-safe cut,
    /// at most `previewBytesMax`), or nil when previews are off.
    func mailboxGrew(user: UserID, newestSeq: Seq, epoch: UInt32, sender: UserID, preview: [UInt8]?)
    /// A device of `user` logged in: its pending tips may be cancelled.
    func userConnected(user: UserID, device: DeviceID)
    /// Registers (or replaces) the push token of `user`'s `device`; completes once durable,
    /// or with the ERROR to answer. Any thread.
    func register(user: UserID, device: DeviceID, platform: PushPlatform, token: [UInt8],
                  completion: @escaping @Sendable (Result<Void, Frame.ErrorReport>) -> Void)
    /// Removes the push token of `user`'s `device` (none registered is fine); completes once
    /// durable, or with the ERROR to answer.
    func unregister(user: UserID, device: DeviceID, completion: @escaping @Sendable (Result<Void, Frame.ErrorReport>) -> Void)
}

/// An offline push that only logs each tip at `debug` level and keeps no registrations (a
/// service built without `PushRuntime`): PUSH_REGISTER is answered `unavailable`.
public struct LoggingOfflinePush: OfflinePushGateway {
    private let log: ServerLog

    public init(log: ServerLog) { self.log = log }

    public var previewBytesMax: Int { 0 }

    public func mailboxGrew(user: UserID, newestSeq: Seq, epoch: UInt32, sender: UserID, preview: [UInt8]?) {
        log.debug("offline_push", "user=\(user) newest_seq=\(newestSeq) epoch=\(epoch) sender=\(sender)")
    }

    public func userConnected(user: UserID, device: DeviceID) {}

    public func register(user: UserID, device: DeviceID, platform: PushPlatform, token: [UInt8],
                         completion: @escaping @Sendable (Result<Void, Frame.ErrorReport>) -> Void) {
        completion(.failure(LoggingOfflinePush.noRegistrations))
    }

    public func unregister(user: UserID, device: DeviceID, completion: @escaping @Sendable (Result<Void, Frame.ErrorReport>) -> Void) {
        completion(.failure(LoggingOfflinePush.noRegistrations))
    }

    static let noRegistrations = Frame.ErrorReport(code: .unavailable, message: "push registration is not available")
}
