/// One measured case: the same scenario run for each engine, each in its own child process.
struct CaseResult: Codable {
    enum Kind: String, Codable {
        case append
        case batchAppend
        case populate
        case open
        case read
    }

    /// A stable identifier ("append-sync/blocking-64"), used by the target checks.
    var id: String
    var title: String
    var kind: Kind
    var seqbox: ChildReport?
    var sqlite: ChildReport?
    var errors: [String] = []

    init(id: String, title: String, kind: Kind) {
        self.id = id
        self.title = title
        self.kind = kind
    }

    subscript(engine: EngineKind) -> ChildReport? {
        get { engine == .seqbox ? seqbox : sqlite }
        set { if engine == .seqbox { seqbox = newValue } else { sqlite = newValue } }
    }
}

/// One line of the results table: a figure of a case for both engines.
struct Figure {
    var name: String
    var value: (ChildReport) -> Double?

    /// Group commit at work: records per sync (Seqbox `sync`), per written batch (Seqbox
    /// `none`) or per transaction (SQLite), over the whole child run including warm-up.
    static func messagesPerCommit(_ report: ChildReport) -> Double? {
        guard let records = report.notes["records"] else { return nil }
        let commitKey = report.engine == .sqlite ? "transactions" : report.scenario == DurableAppendScenario.name ? "syncs" : "batches"
        guard let commits = report.notes[commitKey], commits > 0 else { return nil }
        return records / commits
    }

    /// (max - min) / median of the headline figure over the repeated runs, in percent.
    static func spread(_ report: ChildReport) -> Double? {
        guard let runs = report.runs, runs.count > 1 else { return nil }
        let sorted = runs.sorted()
        let median = sorted[sorted.count / 2]
        return median == 0 ? nil : (sorted.last! - sorted.first!) / median * 100
    }

    static func megabytes(_ bytes: Int?) -> Double? { bytes.map { Double($0) / 1_048_576 } }

    /// The figures shown for each kind of case.
    static func figures(for kind: CaseResult.Kind) -> [Figure] {
        switch kind {
        case .append, .batchAppend:
            let unit = kind == .batchAppend ? "per batch" : "per append"
            return [
                Figure(name: "msgs/s") { $0.messagesPerSecond },
                Figure(name: "msgs/s spread of runs %") { spread($0) },
                Figure(name: "p50 µs \(unit)") { $0.latency?.p50Us },
                Figure(name: "p99 µs \(unit)") { $0.latency?.p99Us },
                Figure(name: "p999 µs \(unit)") { $0.latency?.p999Us },
                Figure(name: "max µs \(unit)") { $0.latency?.maxUs },
                Figure(name: "msgs per commit (mean)") { messagesPerCommit($0) },
                Figure(name: "peak RSS MB") { megabytes($0.peakResidentBytes) },
            ]
        case .populate:
            return [
                Figure(name: "load msgs/s") { $0.messagesPerSecond },
                Figure(name: "store on disk MB") { megabytes($0.storeBytes) },
                Figure(name: "peak RSS MB") { megabytes($0.peakResidentBytes) },
            ]
        case .open:
            return [
                Figure(name: "open ms") { $0.openSeconds.map { $0 * 1000 } },
                Figure(name: "open ms spread of runs %") { spread($0) },
                Figure(name: "RSS after open MB") { megabytes($0.residentAfterOpenBytes) },
                Figure(name: "anon RSS after open MB") { megabytes($0.anonymousAfterOpenBytes) },
                Figure(name: "index MB (own estimate)") { megabytes($0.indexBytes) },
                Figure(name: "records replayed") { $0.notes["recordsReplayed"] },
                Figure(name: "peak RSS MB") { megabytes($0.peakResidentBytes) },
            ]
        case .read:
            return [
                Figure(name: "reads/s") { $0.operationsPerSecond },
                Figure(name: "reads/s spread of runs %") { spread($0) },
                Figure(name: "msgs/s") { $0.messagesPerSecond },
                Figure(name: "p50 µs per read") { $0.latency?.p50Us },
                Figure(name: "p99 µs per read") { $0.latency?.p99Us },
                Figure(name: "peak RSS MB") { megabytes($0.peakResidentBytes) },
            ]
        }
    }
}
