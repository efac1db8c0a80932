import SeqboxFormat
import SeqboxProtocol

/// The server's `OfflinePushGateway`: registrations in the durable push state, tips through
/// the dispatcher to the webhook.
///
/// Without a dispatcher (no `--push-webhook`) tips are only logged at `debug`, as before offline
/// push existed, and nothing is queued; registrations still work and persist, so turning the
/// webhook on later reaches devices registered meanwhile.
final class PushGateway: OfflinePushGateway {
    let store: PushStateStore
    let dispatcher: PushDispatcher?
    let counters: PushCounters
    let previewBytesMax: Int
    private let log: ServerLog

    init(store: PushStateStore, dispatcher: PushDispatcher?, counters: PushCounters, previewBytesMax: Int, log: ServerLog) {
        self.store = store
        self.dispatcher = dispatcher
        self.counters = counters
        self.previewBytesMax = dispatcher == nil ? 0 : previewBytesMax
        self.log = log
    }

    func mailboxGrew(user: UserID, newestSeq: Seq, epoch: UInt32, sender: UserID, preview: [UInt8]?) {
        guard let dispatcher else {
            log.debug("offline_push", "user=\(user) newest_seq=\(newestSeq) epoch=\(epoch) sender=\(sender)")
            return
        }
        guard store.hasDevices(user) else {
            counters.skipped.increment()
            return
        }
        dispatcher.enqueue(PushTip(user: user, newestSeq: newestSeq, epoch: epoch, sender: sender, preview: preview))
    }

    func userConnected(user: UserID, device: DeviceID) {
        dispatcher?.cancel(user: user)
    }

    func register(user: UserID, device: DeviceID, platform: PushPlatform, token: [UInt8],
                  completion: @escaping @Sendable (Result<Void, Frame.ErrorReport>) -> Void) {
        if let refusal = PushDevice.refusal(platform: platform, token: token) {
            completion(.failure(Frame.ErrorReport(code: .badRequest, message: refusal)))
            return
        }
        store.register(user: user, device: PushDevice(device: device, platform: platform, token: token)) { durable in
            completion(durable ? .success(()) : .failure(PushGateway.notDurable))
        }
    }

    func unregister(user: UserID, device: DeviceID, completion: @escaping @Sendable (Result<Void, Frame.ErrorReport>) -> Void) {
        store.unregister(user: user, device: device) { durable in
            completion(durable ? .success(()) : .failure(PushGateway.notDurable))
        }
    }

    /// The answer when the push state could not be written: nothing is promised; retry later.
    static let notDurable = Frame.ErrorReport(code: .unavailable, retryAfterMs: 1_000, message: "push registration not stored")

    var statistics: PushStatistics {
        var statistics = counters.snapshot
        if let gauges = dispatcher?.gauges {
            statistics.queued = gauges.queued
            statistics.inFlight = gauges.inFlight
        }
        statistics.registeredDevices = store.deviceCount
        statistics.outbox = store.outboxCount
        return statistics
    }
}
