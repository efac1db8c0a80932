/// What a `seqboxd` process does: everything in one process with the store embedded (`all`,
/// the default), only the store behind the storage RPC (`storage`), or the access, send, push
/// and receive paths over remote storage nodes (`gateway`).
public enum ServerRole: String, Sendable, CaseIterable {
    case all
    case storage
    case gateway
}

/// The role and cluster settings of `seqboxd serve`.
public struct ClusterOptions: Sendable {
    public var role: ServerRole = .all
    public init() {}
}

extension ServerOptions {
    /// The role and cluster options, listed in `--help` after the core ones.
    static let clusterOptions: [Option] = []
}
