import SeqboxFormat
import SeqboxProtocol
import SeqboxStore

/// The push path (PROTOCOL.md §5.10): once an append is durable, every live connection of the
/// mailbox owner gets a NOTIFY with the newest seq, coalesced per connection; a recipient with
/// no live connection is handed to the offline push gateway.
///
/// Called on the store's writer thread, so it only schedules work on the connections' loops.
final class PushPath: Sendable {
    private let store: MailboxStore
    private let registry: SessionRegistry
    private let offlinePush: any OfflinePushGateway

    init(store: MailboxStore, registry: SessionRegistry, offlinePush: any OfflinePushGateway) {
        self.store = store
        self.registry = registry
        self.offlinePush = offlinePush
    }

    /// `user`'s mailbox grew to at least `seq`. Notifies every live session of `user` except
    /// `excluded` (the connection whose own SEND_OK carries the seq). When `pushIfOffline` and
    /// no session was live, the offline gateway gets the tip.
    func mailboxGrew(user: UserID, seq: Seq, excluding excluded: ConnectionID? = nil, pushIfOffline: Bool) {
        var live = 0
        let store = self.store
        registry.forEachLiveSession(of: user) { session in
            live += 1
            guard session.id != excluded else { return }
            session.scheduleNotify {
                let info = store.mailboxInfo(user: user)
                return Frame.Notify(newestSeq: info.newestSeq.rawValue, epoch: WireValues.epoch(info.epoch))
            }
        }
        if live == 0 && pushIfOffline {
            offlinePush.mailboxGrew(user: user, newestSeq: seq, epoch: WireValues.epoch(store.mailboxInfo(user: user).epoch))
        }
    }
}
