import SeqboxFormat
import SeqboxProtocol
import Synchronization

/// Who a connection is logged in as.
public struct SessionIdentity: Hashable, Sendable, CustomStringConvertible {
    public var user: UserID
    public var device: DeviceID
    public init(user: UserID, device: DeviceID) {
        self.user = user
        self.device = device
    }
    public var description: String { "\(user)/\(device)" }
}

/// The service's state for one connection.
///
/// Thread affinity: `identity` is read and written only on the connection's event-loop thread
/// (where every frame of the connection is handled). The pending NOTIFY tip is shared with the
/// backend's completion threads and guarded by a mutex.
final class Session: @unchecked Sendable {
    let connection: any ConnectionHandle
    /// Set by a successful LOGIN; nil before. Loop thread only.
    var identity: SessionIdentity?
    /// The tip a scheduled NOTIFY will carry, or nil when none is pending: at most one is
    /// pending, and it carries the newest tip scheduled before it is sent.
    private let pendingTip = PthreadLocked<Frame.Notify?>(nil)

    init(connection: any ConnectionHandle) {
        self.connection = connection
    }

    var id: ConnectionID { connection.id }

    /// Schedules a NOTIFY with `tip` on the connection's loop, or raises the tip of the one
    /// already pending (coalescing: a burst of appends costs one NOTIFY). Any thread.
    func scheduleNotify(_ tip: Frame.Notify) {
        let schedule = pendingTip.withLock { pending -> Bool in
            guard let current = pending else {
                pending = tip
                return true
            }
            // A newer epoch wins; within an epoch the higher seq does.
            if tip.epoch > current.epoch || (tip.epoch == current.epoch && tip.newestSeq > current.newestSeq) { pending = tip }
            return false
        }
        guard schedule else { return }
        connection.execute { [self] in
            // Taken first: a tip scheduled after this point schedules another NOTIFY.
            guard let tip = pendingTip.withLock({ pending -> Frame.Notify? in
                defer { pending = nil }
                return pending
            }) else { return }
            connection.send(.notify(tip), requestID: 0)
        }
    }
}
