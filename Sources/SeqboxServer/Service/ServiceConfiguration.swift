import SeqboxProtocol
import SeqboxStore

/// The service's limits and policies (the access layer has its own: frame sizes on input,
/// output buffers, timeouts). The values the client must know are advertised in HELLO_OK, so
/// the server builds both from one set of settings.
public struct ServiceConfiguration: Sendable {
    /// Largest SEND body accepted (`payloadTooLarge` above it); at most the protocol's 64 KiB.
    public var messageBodySizeMax: Int = ProtocolConstants.messageBodySizeMax
    /// Most records in one PULL_OK; larger PULL limits are clamped (advertised in HELLO_OK).
    public var pullLimitMax: Int = ProtocolConstants.defaultPullLimit
    /// Largest PULL_OK frame `length` the service builds (at most the protocol's).
    public var pullFrameLengthMax: Int = ProtocolConstants.frameLengthMax
    /// SENDs per sender (user), across all the sender's connections.
    public var sendRate: RateLimit = RateLimit(perSecond: 50, burst: 100)
    /// Most senders the rate limiter tracks at once.
    public var rateLimiterSendersMax: Int = 100_000
    /// `reconnectAfterMs` in the GOODBYE sent when the server shuts down.
    public var shutdownReconnectAfterMs: UInt32 = 5_000
    /// `retryAfterMs` sent with `unavailable` and `overloaded`.
    public var retryAfterUnavailableMs: UInt32 = 1_000
    /// Unix seconds now (token expiry); replaceable in tests.
    public var wallClockSeconds: @Sendable () -> UInt64 = { wallClockMilliseconds() / 1000 }
    /// Unix milliseconds now (message timestamps); replaceable in tests.
    public var wallClockMs: @Sendable () -> UInt64 = { wallClockMilliseconds() }
    /// Monotonic nanoseconds (rate limiter); replaceable in tests.
    public var monotonicNs: @Sendable () -> UInt64 = { monotonicNanoseconds() }

    public init() {}

    /// Checks the settings against the protocol's limits.
    public func validate() throws(ConfigurationError) {
        guard (0 ... ProtocolConstants.messageBodySizeMax).contains(messageBodySizeMax) else {
            throw ConfigurationError("messageBodySizeMax must be within 0...\(ProtocolConstants.messageBodySizeMax)")
        }
        guard (1 ... ProtocolConstants.pullLimitMax).contains(pullLimitMax) else {
            throw ConfigurationError("pullLimitMax must be within 1...\(ProtocolConstants.pullLimitMax)")
        }
        let oneRecord = FrameLimits.frameLengthNeeded(messageBodySizeMax: messageBodySizeMax)
        guard (oneRecord ... ProtocolConstants.frameLengthMax).contains(pullFrameLengthMax) else {
            throw ConfigurationError("pullFrameLengthMax must be within \(oneRecord)...\(ProtocolConstants.frameLengthMax)")
        }
        guard rateLimiterSendersMax >= 1 else { throw ConfigurationError("rateLimiterSendersMax must be positive") }
    }
}

/// A setting out of range.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
