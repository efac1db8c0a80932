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
/// (where every frame of the connection is handled). The NOTIFY coalescing flag is shared with
/// the store's writer thread and is atomic.
final class Session: @unchecked Sendable {
    let connection: any ConnectionHandle
    /// Set by a successful LOGIN; nil before. Loop thread only.
    var identity: SessionIdentity?
    /// True while a NOTIFY is scheduled on the loop and not yet sent: at most one is pending,
    /// and it carries the mailbox's newest seq at the time it is sent.
    private let notifyPending = Atomic<Bool>(false)

    init(connection: any ConnectionHandle) {
        self.connection = connection
    }

    var id: ConnectionID { connection.id }

    /// Schedules a NOTIFY on the connection's loop unless one is pending already (coalescing).
    /// Any thread. `currentTip` runs on the loop when the NOTIFY is sent and returns the
    /// mailbox's newest seq and wire epoch at that moment.
    func scheduleNotify(currentTip: @escaping @Sendable () -> Frame.Notify) {
        guard !notifyPending.exchange(true, ordering: .acquiringAndReleasing) else { return }
        connection.execute { [self] in
            // Clear first: an append published after this point schedules another NOTIFY; one
            // published before it is visible to `currentTip`.
            notifyPending.store(false, ordering: .sequentiallyConsistent)
            connection.send(.notify(currentTip()), requestID: 0)
        }
    }
}
