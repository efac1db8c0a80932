import Synchronization

/// Counts of what the proxy did, printed when it stops.
final class ProxyStats: Sendable {
    /// The things counted.
    enum Counter: Int, CaseIterable {
        case connections, upstreamFailures, resets, blackholes, stalls, capped, bytesForwarded

        var name: String {
            switch self {
            case .connections: "connections"
            case .upstreamFailures: "upstream_failures"
            case .resets: "resets"
            case .blackholes: "blackholes"
            case .stalls: "stalls"
            case .capped: "capped"
            case .bytesForwarded: "bytes"
            }
        }
    }

    private let counts = Mutex([Int](repeating: 0, count: Counter.allCases.count))

    func add(_ counter: Counter, _ amount: Int = 1) {
        counts.withLock { $0[counter.rawValue] += amount }
    }

    var summary: String {
        let values = counts.withLock { $0 }
        return Counter.allCases.map { "\($0.name)=\(values[$0.rawValue])" }.joined(separator: " ")
    }
}
