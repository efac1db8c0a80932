import SeqboxStore

/// Scenario 4: open time and resident memory of a populated store. `--cold` first drops the
/// store's files from the page cache. Seqbox's open recovers and builds its whole in-memory
/// index; SQLite opens lazily, so its figure is open plus a first point query (which reads
/// the schema and, after a kill, recovers the WAL index).
enum OpenScenario {
    static let name = "open"

    static func run(_ context: ScenarioContext) throws -> ChildReport {
        if context.arguments.has("cold") { FileTree.evictFromPageCache(context.directory) }
        var report = context.report(name)
        let start = Clock.nanoseconds()
        switch context.engine {
        case .seqbox:
            let store = try MailboxStore.open(directory: context.dataPath, options: StoreOptions())
            report.openSeconds = Clock.seconds(since: start)
            report.residentAfterOpenBytes = ProcessMetrics.residentBytes()
            report.anonymousAfterOpenBytes = ProcessMetrics.anonymousResidentBytes()
            report.indexBytes = store.indexMemoryBytes()
            let stats = store.stats()
            let recovery = store.recoveryReport
            report.messages = stats.indexedMessages
            report.notes = ["users": Double(stats.users), "segments": Double(stats.segments),
                            "recordsReplayed": Double(recovery.recordsReplayed),
                            "segmentsReplayed": Double(recovery.segmentsReplayed),
                            "tornTailBytes": Double(recovery.tornTail?.bytesDropped ?? 0)]
            let closing = Clock.nanoseconds()
            try store.close()
            report.closeSeconds = Clock.seconds(since: closing)
        case .sqlite:
            let connection = try SQLiteConnection(path: context.dataPath, durable: true)
            let probe = try connection.prepare("SELECT MAX(seq) FROM messages WHERE uid = 1")
            _ = try probe.step()
            probe.reset()
            report.openSeconds = Clock.seconds(since: start)
            report.residentAfterOpenBytes = ProcessMetrics.residentBytes()
            report.anonymousAfterOpenBytes = ProcessMetrics.anonymousResidentBytes()
            let closing = Clock.nanoseconds()
            connection.close()
            report.closeSeconds = Clock.seconds(since: closing)
        }
        report.peakResidentBytes = ProcessMetrics.peakResidentBytes()
        report.storeBytes = FileTree.allocatedBytes(context.directory)
        return report
    }
}
