import SeqboxFormat

/// Which storage node holds a user's mailbox: jump consistent hash (Lamping & Veach, "A Fast,
/// Minimal Memory, Consistent Hash Algorithm", 2014) over the node list, of a 64-bit mix of the
/// user ID.
///
/// Why jump hash: no state beyond the node count, an even spread, and when a node is appended
/// to the list only about 1/N of the users move (all of them to the new node); no user moves
/// between the old nodes. Nodes can only be added or removed at the end of the list, so the list
/// order is part of the cluster's configuration (docs/SCALE-OUT.md).
///
/// The mix (SplitMix64's finalizer) spreads sequential user IDs, which jump hash's linear
/// congruential steps alone would place unevenly for small keys. Both functions are frozen:
/// changing either moves users between nodes.
public enum UserSharding {
    /// The node index (0..<nodeCount) of `user`.
    public static func node(of user: UserID, nodeCount: Int) -> Int {
        jumpHash(key: mix(user.rawValue), buckets: nodeCount)
    }

    /// Jump consistent hash: the bucket (0..<buckets) of `key`.
    public static func jumpHash(key: UInt64, buckets: Int) -> Int {
        precondition(buckets >= 1, "at least one bucket")
        var key = key
        var bucket: Int64 = -1
        var next: Int64 = 0
        while next < Int64(buckets) {
            bucket = next
            key = key &* 2_862_933_555_777_941_757 &+ 1
            next = Int64(Double(bucket + 1) * (Double(Int64(1) << 31) / Double((key >> 33) + 1)))
        }
        return Int(bucket)
    }

    /// SplitMix64's finalizer: a bijective 64-bit mix.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
