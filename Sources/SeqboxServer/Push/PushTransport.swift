/// How one webhook POST ended.
enum PushDeliveryOutcome: Hashable, Sendable {
    /// A 2xx: the relay took the tip.
    case delivered(status: Int)
    /// A status that retrying will not fix (4xx other than 408 and 429, 3xx): the tip is dropped.
    case rejected(status: Int)
    /// A timeout, a connection error, a 5xx, 408 or 429: worth retrying.
    case failed(reason: String)

    /// The outcome of an HTTP answer with `status`.
    static func classify(status: Int) -> PushDeliveryOutcome {
        switch status {
        case 200 ..< 300: .delivered(status: status)
        case 408, 429, 500 ..< 600: .failed(reason: "status \(status)")
        default: .rejected(status: status)
        }
    }
}

/// Carries webhook bodies to the relay. The shipped one is `WebhookTransport` (URLSession).
protocol PushTransport: Sendable {
    /// POSTs `body` (JSON); `completion` runs once, on a thread of the transport's choosing.
    func post(_ body: [UInt8], completion: @escaping @Sendable (PushDeliveryOutcome) -> Void)
    /// Cancels requests under way (their completions may still run) and refuses new ones.
    func shutDown()
}
