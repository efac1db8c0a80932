import Synchronization

/// A token-bucket rate: `perSecond` tokens refill continuously up to `burst`; each request
/// takes one. `perSecond == 0` means unlimited.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    public var perSecond: Double
    public var burst: Double

    public init(perSecond: Double, burst: Double) {
        precondition(perSecond >= 0 && burst >= 1, "a rate limit needs perSecond >= 0 and burst >= 1")
        self.perSecond = perSecond
        self.burst = burst
    }

    public static let unlimited = RateLimit(perSecond: 0, burst: 1)
    public var isUnlimited: Bool { perSecond == 0 }
    public var description: String { isUnlimited ? "unlimited" : "\(perSecond)/s burst \(burst)" }
}

/// Per-key token buckets (the send path keys them by sender), in a map of bounded size.
///
/// When the map is full, buckets that have refilled completely are dropped first (they carry
/// no information: a new bucket starts full too); if none has, an arbitrary eighth of the map
/// is dropped, which can only make the limiter more lenient for those keys, never stricter.
/// Thread-safe; one short lock per decision.
public final class RateLimiter: Sendable {
    /// The outcome of one request.
    public enum Decision: Equatable, Sendable {
        case allowed
        /// Over the limit: the next token is available in this many milliseconds (at least 1).
        case limited(retryAfterMs: UInt32)
    }

    struct Bucket {
        var tokens: Double
        var updatedNanoseconds: UInt64
    }

    public let limit: RateLimit
    /// Most keys tracked at once.
    public let keysMax: Int
    private let clock: @Sendable () -> UInt64
    private let buckets: PthreadLocked<[UInt64: Bucket]>

    /// A limiter for `limit`, tracking at most `keysMax` keys; `clock` returns monotonic
    /// nanoseconds.
    public init(limit: RateLimit, keysMax: Int = 100_000, clock: @escaping @Sendable () -> UInt64) {
        precondition(keysMax >= 1, "keysMax must be positive")
        self.limit = limit
        self.keysMax = keysMax
        self.clock = clock
        self.buckets = PthreadLocked([:])
    }

    /// Keys currently tracked.
    public var trackedKeys: Int { buckets.withLock { $0.count } }

    /// Takes one token from `key`'s bucket, if it has one.
    public func admit(_ key: UInt64) -> Decision {
        guard !limit.isUnlimited else { return .allowed }
        let now = clock()
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: limit.burst, updatedNanoseconds: now)
            refill(&bucket, now: now)
            let decision: Decision
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                decision = .allowed
            } else {
                let waitMs = ((1 - bucket.tokens) / limit.perSecond * 1000).rounded(.up)
                decision = .limited(retryAfterMs: UInt32(min(max(waitMs, 1), Double(UInt32.max))))
            }
            if buckets[key] == nil && buckets.count >= keysMax { makeRoom(&buckets, now: now) }
            buckets[key] = bucket
            return decision
        }
    }

    private func refill(_ bucket: inout Bucket, now: UInt64) {
        let elapsed = Double(now &- bucket.updatedNanoseconds) / 1e9
        if now > bucket.updatedNanoseconds {
            bucket.tokens = min(limit.burst, bucket.tokens + elapsed * limit.perSecond)
            bucket.updatedNanoseconds = now
        }
    }

    private func makeRoom(_ buckets: inout [UInt64: Bucket], now: UInt64) {
        let fullAfterNanoseconds = UInt64(limit.burst / limit.perSecond * 1e9)
        buckets = buckets.filter { _, bucket in
            bucket.tokens + Double(now &- bucket.updatedNanoseconds) / 1e9 * limit.perSecond < limit.burst
                && now &- bucket.updatedNanoseconds < fullAfterNanoseconds
        }
        guard buckets.count >= keysMax else { return }
        let dropCount = max(1, buckets.count / 8)
        for key in buckets.keys.prefix(dropCount) { buckets.removeValue(forKey: key) }
    }
}
