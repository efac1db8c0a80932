import SeqboxSystem

/// What a `seqboxd` process does: everything in one process with the store embedded (`all`,
/// the default), only the store behind the storage RPC (`storage`), or the access, send, push
/// and receive paths over remote storage nodes (`gateway`).
public enum ServerRole: String, Sendable, CaseIterable {
    case all
    case storage
    case gateway
}

/// One storage node as the gateway reaches it: a numeric IPv4 address (or `localhost`) and a port.
public struct StorageEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; nil when malformed.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port != 0 else { return nil }
        let host = String(text[..<colon])
        guard (try? IPv4SocketAddress(host: host, port: port)) != nil else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { "\(host):\(port)" }
}

/// The role and cluster settings of `seqboxd serve`.
public struct ClusterOptions: Sendable {
    /// Most storage nodes a gateway addresses.
    public static let storageNodesMax = 1024
    /// Most connections a gateway holds to one storage node.
    public static let storageConnectionsMax = 16
    /// Longest per-request timeout accepted.
    public static let storageTimeoutMsMax = 600_000

    public var role: ServerRole = .all
    /// The storage nodes of a gateway, in the order that defines sharding (docs/SCALE-OUT.md):
    /// the list may only grow at its end.
    public var storageNodes: [StorageEndpoint] = []
    /// A gateway's per-request timeout towards a storage node; a request unanswered this long
    /// answers `unavailable` (its write may still have been applied: the client's retry with the
    /// same client message ID is recognised as a duplicate).
    public var storageTimeoutMs = 2_000
    /// TCP connections a gateway holds to each storage node.
    public var storageConnections = 1

    public init() {}

    /// Checks the options against the role.
    func validate() throws(ServerOptions.UsageError) {
        switch role {
        case .gateway:
            guard !storageNodes.isEmpty else {
                throw ServerOptions.UsageError("--role gateway needs --storage HOST:PORT[,HOST:PORT...] (or SEQBOX_STORAGE)")
            }
            if Set(storageNodes).count != storageNodes.count {
                throw ServerOptions.UsageError("--storage lists a node twice")
            }
        case .all, .storage:
            guard storageNodes.isEmpty else {
                throw ServerOptions.UsageError("--storage is only for --role gateway (this process has role \(role.rawValue))")
            }
        }
    }
}

extension ServerOptions {
    /// The role and cluster options, listed in `--help` after the core ones.
    static let clusterOptions: [Option] = [
        Option(flag: "--role", environment: "SEQBOX_ROLE", value: "ROLE",
               help: "all (default: one process with the store), storage (the store behind the storage RPC) or gateway") { o, v throws(UsageError) in
            guard let role = ServerRole(rawValue: v) else { throw UsageError("--role: expected all, storage or gateway, got \(v)") }
            o.cluster.role = role
        },
        Option(flag: "--storage", environment: "SEQBOX_STORAGE", value: "HOST:PORT,...",
               help: "gateway: the storage nodes, in sharding order (append only; see docs/SCALE-OUT.md)") { o, v throws(UsageError) in
            let parts = v.split(separator: ",", omittingEmptySubsequences: false).map { $0.filter { $0 != " " } }
            var nodes: [StorageEndpoint] = []
            for part in parts {
                guard let endpoint = StorageEndpoint(parsing: part) else {
                    throw UsageError("--storage: expected HOST:PORT with a numeric IPv4 host (or localhost) and a port 1...65535, got \"\(part)\"")
                }
                nodes.append(endpoint)
            }
            guard nodes.count <= ClusterOptions.storageNodesMax else { throw UsageError("--storage: at most \(ClusterOptions.storageNodesMax) nodes") }
            o.cluster.storageNodes = nodes
        },
        Option(flag: "--storage-timeout-ms", environment: "SEQBOX_STORAGE_TIMEOUT_MS", value: "MS",
               help: "gateway: a storage request unanswered this long fails with unavailable (default 2000)") { o, v throws(UsageError) in
            guard let value = Int(v), (1 ... ClusterOptions.storageTimeoutMsMax).contains(value) else {
                throw UsageError("--storage-timeout-ms: expected an integer in 1...\(ClusterOptions.storageTimeoutMsMax), got \(v)")
            }
            o.cluster.storageTimeoutMs = value
        },
        Option(flag: "--storage-connections", environment: "SEQBOX_STORAGE_CONNECTIONS", value: "N",
               help: "gateway: TCP connections to each storage node (default 1)") { o, v throws(UsageError) in
            guard let value = Int(v), (1 ... ClusterOptions.storageConnectionsMax).contains(value) else {
                throw UsageError("--storage-connections: expected an integer in 1...\(ClusterOptions.storageConnectionsMax), got \(v)")
            }
            o.cluster.storageConnections = value
        },
    ]
}
