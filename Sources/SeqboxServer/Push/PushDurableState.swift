import SeqboxFormat
import SeqboxProtocol

/// What the push journal records: the registered devices of each user and the outbox (the
/// users with a tip not yet delivered). A pure value; `PushStateStore` keeps it in memory and
/// journals every change.
struct PushDurableState: Sendable {
    /// Most devices one user may register; registering another removes the least recently
    /// registered one (a user does not own 32 phones; an app that leaks device IDs does).
    static let devicesPerUserMax = 32

    /// A platform's token: who holds it.
    struct TokenKey: Hashable, Sendable {
        var platform: PushPlatform
        var token: [UInt8]
    }

    /// Each user's devices, least recently registered first.
    private(set) var devices: [UserID: [PushDevice]] = [:]
    /// Which (user, device) holds each token: a token belongs to one app install, so when it
    /// is registered again (another account logged in on the phone) the old holder loses it,
    /// and the previous account's tips never reach the new account's screen.
    private var holders: [TokenKey: (user: UserID, device: DeviceID)] = [:]
    /// Each user's pending tip, with the order in which it first entered the outbox.
    private(set) var outbox: [UserID: (tip: PushTip, order: UInt64)] = [:]
    private var nextOrder: UInt64 = 0

    /// Registered devices in all.
    var deviceCount: Int { holders.count }

    /// The pending tips, oldest first.
    var pendingTips: [PushTip] {
        outbox.values.sorted { $0.order < $1.order }.map(\.tip)
    }

    /// Applies one journal entry. Returns whether it dropped a registration other than the
    /// one it writes (an unregistration, a replaced token, a token taken over by another
    /// account, an evicted device): personal data the journal file still holds until it is
    /// compacted.
    @discardableResult
    mutating func apply(_ entry: PushJournalEntry) -> Bool {
        switch entry {
        case .register(let user, let device):
            var erased = false
            let key = TokenKey(platform: device.platform, token: device.token)
            if let holder = holders[key], holder.user != user || holder.device != device.device {
                remove(holder.user, holder.device)
                erased = true
            }
            if let replaced = remove(user, device.device), replaced != device { erased = true }
            var list = devices[user] ?? []
            if list.count >= PushDurableState.devicesPerUserMax {
                let evicted = list.removeFirst()
                holders[TokenKey(platform: evicted.platform, token: evicted.token)] = nil
                erased = true
            }
            list.append(device)
            devices[user] = list
            holders[key] = (user, device.device)
            return erased
        case .unregister(let user, let device):
            return remove(user, device) != nil
        case .tipEnqueued(let tip):
            var stored = tip
            stored.preview = nil
            if let current = outbox[tip.user] {
                outbox[tip.user] = (current.tip.merged(with: stored), current.order)
            } else {
                outbox[tip.user] = (stored, nextOrder)
                nextOrder += 1
            }
            return false
        case .tipDone(let user, let seq):
            if let current = outbox[user], current.tip.newestSeq <= seq { outbox[user] = nil }
            return false
        }
    }

    /// The entries that rebuild this state from nothing (a compacted journal).
    var snapshot: [PushJournalEntry] {
        var entries: [PushJournalEntry] = []
        entries.reserveCapacity(deviceCount + outbox.count)
        for (user, list) in devices.sorted(by: { $0.key < $1.key }) {
            for device in list { entries.append(.register(user, device)) }
        }
        for tip in pendingTips { entries.append(.tipEnqueued(tip)) }
        return entries
    }

    /// Removes `user`'s `device`; returns its registration, if it had one.
    @discardableResult
    private mutating func remove(_ user: UserID, _ device: DeviceID) -> PushDevice? {
        guard var list = devices[user], let index = list.firstIndex(where: { $0.device == device }) else { return nil }
        let removed = list.remove(at: index)
        holders[TokenKey(platform: removed.platform, token: removed.token)] = nil
        devices[user] = list.isEmpty ? nil : list
        return removed
    }
}
