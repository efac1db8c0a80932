/// What one scenario child process measured; printed as one JSON line on its stdout.
struct ChildReport: Codable, Sendable {
    var scenario: String
    var engine: EngineKind
    /// Operations counted in the measured interval (appends, reads, loaded messages).
    var operations: Int = 0
    /// Messages those operations moved (equals `operations` for single appends).
    var messages: Int = 0
    var seconds: Double = 0
    /// Per-operation latency (append, batch or read).
    var latency: LatencySummary?
    /// Peak resident set size of the child (VmHWM) at the end of the scenario.
    var peakResidentBytes: Int = 0
    /// Resident set size right after opening (open scenario).
    var residentAfterOpenBytes: Int?
    /// Its anonymous part (heap: the in-memory index), without mapped file pages.
    var anonymousAfterOpenBytes: Int?
    var openSeconds: Double?
    var closeSeconds: Double?
    /// The engine's own estimate of its in-memory index (Seqbox).
    var indexBytes: Int?
    /// Allocated bytes of the engine's files.
    var storeBytes: Int?
    /// Set by the parent on the run it shows: the headline figure of every run of the case
    /// (this one is the median).
    var runs: [Double]?
    /// Engine counters and other facts (syncs, transactions, compressed fraction).
    var notes: [String: Double] = [:]

    init(scenario: String, engine: EngineKind) {
        self.scenario = scenario
        self.engine = engine
    }

    var operationsPerSecond: Double { seconds > 0 ? Double(operations) / seconds : 0 }
    var messagesPerSecond: Double { seconds > 0 ? Double(messages) / seconds : 0 }
}
