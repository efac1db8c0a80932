/// What the append scenarios drive: a mailbox store taking messages, blocking or not.
protocol AppendEngine: AnyObject, Sendable {
    /// Appends one message; returns once it is complete under the engine's durability.
    func append(_ message: BenchMessage) throws
    /// Appends messages as one atomic unit; returns once complete.
    func append(batch messages: [BenchMessage]) throws
    /// Queues one message; `completion(succeeded)` runs on the engine's writer thread.
    func append(_ message: BenchMessage, completion: @escaping @Sendable (Bool) -> Void)
    /// Finishes queued work and closes.
    func close() throws
    /// Engine counters worth reporting (transactions/syncs, batches).
    func counters() -> [String: Double]
}

/// Which engine a scenario runs against.
enum EngineKind: String, CaseIterable, Codable, Sendable {
    case seqbox
    case sqlite

    var title: String { self == .seqbox ? "Seqbox" : "SQLite" }

    /// Where the engine keeps its data inside a scenario directory.
    func dataPath(in directory: String) -> String {
        self == .seqbox ? directory + "/seqbox" : directory + "/sqlite.db"
    }
}
