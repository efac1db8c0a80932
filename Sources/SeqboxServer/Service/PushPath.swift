import SeqboxFormat
import SeqboxProtocol

/// The push path (PROTOCOL.md §5.10): once an append is durable, every live connection of the
/// mailbox owner gets a NOTIFY with the newest seq, coalesced per connection; a recipient with
/// no live connection is handed to the offline push gateway.
///
/// Called on the backend's completion thread, so it only schedules work on the connections'
/// loops and hands tips to the gateway, which queues them.
final class PushPath: Sendable {
    private let registry: SessionRegistry
    let offlinePush: any OfflinePushGateway
    /// The gateway's preview size, read once (0: previews off).
    private let previewBytesMax: Int

    init(registry: SessionRegistry, offlinePush: any OfflinePushGateway) {
        self.registry = registry
        self.offlinePush = offlinePush
        self.previewBytesMax = offlinePush.previewBytesMax
    }

    /// `user`'s mailbox grew to `copy.seq` (a message from `sender`). Notifies every live
    /// session of `user` except `excluded` (the connection whose own SEND_OK carries the seq).
    /// When `pushIfOffline` and no session was live, the offline gateway gets the tip (with
    /// `preview`, the message's first bytes when previews are on).
    func mailboxGrew(user: UserID, to copy: StoredCopy, sender: UserID, excluding excluded: ConnectionID? = nil,
                     pushIfOffline: Bool, preview: [UInt8]? = nil) {
        var live = 0
        let tip = Frame.Notify(newestSeq: copy.seq.rawValue, epoch: copy.epoch)
        registry.forEachLiveSession(of: user) { session in
            live += 1
            guard session.id != excluded else { return }
            session.scheduleNotify(tip)
        }
        if live == 0 && pushIfOffline {
            offlinePush.mailboxGrew(user: user, newestSeq: copy.seq, epoch: copy.epoch, sender: sender, preview: preview)
        }
    }

    /// The preview the gateway wants of a message `body`: nil unless previews are on.
    func preview(of body: [UInt8]) -> [UInt8]? {
        PushPreview.cut(body, bytesMax: previewBytesMax)
    }

    /// A device of `user` logged in: it will sync by itself, so pending offline tips are moot.
    func userLoggedIn(_ identity: SessionIdentity) {
        offlinePush.userConnected(user: identity.user, device: identity.device)
    }
}
