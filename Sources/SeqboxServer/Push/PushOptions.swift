/// The offline push settings of `seqboxd serve` (flags and environment variables; README.md
/// "Offline push").
public struct PushOptions: Hashable, Sendable {
    /// The webhook tips are POSTed to; nil: no delivery, tips are logged at `debug` (device
    /// registrations still persist). Checked at start, not here: a bad URL is logged and the
    /// server serves anyway.
    public var webhook: String?
    /// How long one POST may take, connection included.
    public var timeoutMs = 5_000
    /// Retries after the first attempt of a tip (timeouts, connection errors, 5xx).
    public var retriesMax = 5
    /// The first retry's backoff step; it doubles per retry up to `backoffMaxMs`.
    public var backoffMs = 500
    public var backoffMaxMs = 60_000
    /// Tips waiting at most (one per user): beyond it the oldest is dropped.
    public var queueMax = 10_000
    /// POSTs under way at most.
    public var concurrency = 8
    /// Bytes of the message body a tip carries as its preview; 0 (default): none.
    public var previewBytes = 0

    public init() {}

    /// The largest per-request timeout accepted.
    public static let timeoutMsMax = 120_000
    /// The largest concurrency accepted (each POST may hold a connection).
    public static let concurrencyMax = 256
    /// The largest queue bound accepted (each waiting tip holds a few hundred bytes).
    public static let queueMaxLimit = 1_000_000
    /// The most retries accepted.
    public static let retriesMaxLimit = 100
    /// The largest backoff step accepted (one hour).
    public static let backoffMsMax = 3_600_000
}

extension ServerOptions {
    /// The offline push options, listed in `--help` after the core ones.
    static let pushOptions: [Option] = [
        Option(flag: "--push-webhook", environment: "SEQBOX_PUSH_WEBHOOK", value: "URL", help: "POST offline push tips (JSON) to this http(s) URL (default: none, tips are only logged)") { o, v throws(UsageError) in o.push.webhook = v },
        Option(flag: "--push-timeout-ms", environment: "SEQBOX_PUSH_TIMEOUT_MS", value: "MS", help: "time limit of one webhook POST (default 5000)") { o, v throws(UsageError) in o.push.timeoutMs = try pushNumber(v, "--push-timeout-ms", 1 ... PushOptions.timeoutMsMax) },
        Option(flag: "--push-retries-max", environment: "SEQBOX_PUSH_RETRIES_MAX", value: "N", help: "retries of a tip after timeouts, connection errors and 5xx (default 5)") { o, v throws(UsageError) in o.push.retriesMax = try pushNumber(v, "--push-retries-max", 0 ... PushOptions.retriesMaxLimit) },
        Option(flag: "--push-backoff-ms", environment: "SEQBOX_PUSH_BACKOFF_MS", value: "MS", help: "first retry backoff, doubling per retry, with jitter (default 500)") { o, v throws(UsageError) in o.push.backoffMs = try pushNumber(v, "--push-backoff-ms", 1 ... PushOptions.backoffMsMax) },
        Option(flag: "--push-backoff-max-ms", environment: "SEQBOX_PUSH_BACKOFF_MAX_MS", value: "MS", help: "largest retry backoff (default 60000)") { o, v throws(UsageError) in o.push.backoffMaxMs = try pushNumber(v, "--push-backoff-max-ms", 1 ... PushOptions.backoffMsMax) },
        Option(flag: "--push-queue-max", environment: "SEQBOX_PUSH_QUEUE_MAX", value: "N", help: "tips waiting at most, one per user; when full the oldest is dropped (default 10000)") { o, v throws(UsageError) in o.push.queueMax = try pushNumber(v, "--push-queue-max", 1 ... PushOptions.queueMaxLimit) },
        Option(flag: "--push-concurrency", environment: "SEQBOX_PUSH_CONCURRENCY", value: "N", help: "webhook POSTs under way at most (default 8)") { o, v throws(UsageError) in o.push.concurrency = try pushNumber(v, "--push-concurrency", 1 ... PushOptions.concurrencyMax) },
        Option(flag: "--push-preview-bytes", environment: "SEQBOX_PUSH_PREVIEW_BYTES", value: "BYTES", help: "message bytes a tip carries as a preview (default 0: none; at most \(PushPreview.bytesMax))") { o, v throws(UsageError) in o.push.previewBytes = try pushNumber(v, "--push-preview-bytes", 0 ... PushPreview.bytesMax) },
    ]

    private static func pushNumber(_ text: String, _ flag: String, _ range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("\(flag): expected an integer in \(range.lowerBound)...\(range.upperBound), got \(text)")
        }
        return value
    }
}
