import Synchronization

/// The offline push machinery of a running server, built from `PushOptions`: the durable push
/// state under DATA/push (registrations and the outbox), the dispatcher and the webhook
/// transport, and the gateway the push path hands tips to. Started at launch, stopped at
/// shutdown.
///
/// The webhook never decides whether messages flow: a bad URL is logged as an error and tips
/// are kept (not sent) until a restart with a good one; an unreachable one is logged as a
/// warning and tips are retried or dropped per the rules.
public final class PushRuntime: Sendable {
    /// How long the start-up reachability probe may take.
    public static let probeTimeoutMs = 2_000

    /// What the push path hands tips and registrations to.
    public var gateway: any OfflinePushGateway { pushGateway }
    private let pushGateway: PushGateway
    private let log: ServerLog
    private let stopped = Atomic<Bool>(false)

    private init(gateway: PushGateway, log: ServerLog) {
        self.pushGateway = gateway
        self.log = log
    }

    /// Opens the push state and, with a webhook, starts delivering (the outbox's tips first)
    /// and probes the webhook asynchronously. Throws only what the push state's directory
    /// throws (the server does not start then).
    public static func start(options: PushOptions, dataDirectory: String, log: ServerLog) throws -> PushRuntime {
        let store = try PushStateStore.open(directory: dataDirectory + "/push", log: log)
        let counters = PushCounters()
        guard let webhook = options.webhook else {
            log.info("push_configured", "webhook=none devices=\(store.deviceCount) outbox=\(store.recoveredTips.count)")
            return PushRuntime(gateway: PushGateway(store: store, dispatcher: nil, counters: counters, previewBytesMax: 0, log: log), log: log)
        }
        var transport: WebhookTransport?
        switch WebhookEndpoint.parse(webhook) {
        case .success(let url):
            transport = WebhookTransport(url: url, timeoutMs: options.timeoutMs, concurrency: options.concurrency)
        case .failure(let error):
            log.error("push_webhook_invalid", "webhook=\(WebhookEndpoint.redacted(webhook)) error=\"\(error)\" effect=\"tips are kept, none is sent\"")
        }
        let settings = PushDispatcher.Settings(queueMax: options.queueMax, concurrency: options.concurrency, retriesMax: options.retriesMax,
                                               backoff: PushBackoff(initialMs: options.backoffMs, maxMs: max(options.backoffMs, options.backoffMaxMs)))
        let dispatcher = PushDispatcher(settings: settings, store: store, transport: transport, counters: counters, log: log)
        let gateway = PushGateway(store: store, dispatcher: dispatcher, counters: counters, previewBytesMax: options.previewBytes, log: log)
        let runtime = PushRuntime(gateway: gateway, log: log)
        log.info("push_configured", "webhook=\(WebhookEndpoint.redacted(webhook)) timeout_ms=\(options.timeoutMs) retries_max=\(options.retriesMax) "
            + "backoff_ms=\(options.backoffMs) queue_max=\(options.queueMax) concurrency=\(options.concurrency) preview_bytes=\(options.previewBytes) "
            + "devices=\(store.deviceCount) outbox=\(store.recoveredTips.count)")
        dispatcher.recover(store.recoveredTips)
        if let transport {
            let shown = WebhookEndpoint.redacted(webhook)
            transport.probe(timeoutMs: min(options.timeoutMs, probeTimeoutMs)) { error in
                // A probe cut short by `stop` says nothing about the webhook.
                guard !runtime.stopped.load(ordering: .relaxed) else { return }
                if let error {
                    log.warning("push_webhook_unreachable", "webhook=\(shown) error=\"\(error)\" effect=\"tips are retried, then dropped\"")
                } else {
                    log.info("push_webhook_reachable", "webhook=\(shown)")
                }
            }
        }
        return runtime
    }

    /// What the offline push did and holds now.
    public var statistics: PushStatistics { pushGateway.statistics }

    /// Stops delivering (POSTs under way are cancelled; their tips stay in the outbox for the
    /// next start), makes the push state durable, closes it and logs the push report. Once.
    public func stop() {
        guard !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        pushGateway.dispatcher?.stop()
        pushGateway.store.close()
        log.info("push_stopped", "\(statistics)")
    }
}
