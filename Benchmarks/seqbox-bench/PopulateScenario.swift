#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SeqboxStore

/// Builds the data set of the read and open scenarios: `--messages` messages of the fixed
/// workload (`Workload.message(index:)`), then closes cleanly or, with `--finish hang`,
/// reports and waits to be killed with SIGKILL (the "open after kill -9" case).
///
/// Seqbox appends in arrival order (`none`, asynchronous batches of `seqboxBatch` messages,
/// `seqboxWindow` of them in flight: its bulk-load path).
/// SQLite bulk-loads the same rows sorted by (uid, seq) in large transactions: the clustered
/// `WITHOUT ROWID` table ends up the same whatever the insert order, and sorted loading is
/// many times faster than random-key inserts.
enum PopulateScenario {
    static let name = "populate"
    static let seqboxBatch = 1000
    static let seqboxWindow = 8
    static let sqliteTransactionRows = 100_000

    static func run(_ context: ScenarioContext) throws -> ChildReport {
        let messages = try context.arguments.int("messages", default: 1_000_000)
        let hang = context.arguments.string("finish", default: "close") == "hang"
        var report = context.report(name)
        report.operations = messages
        report.messages = messages
        let start = Clock.nanoseconds()
        switch context.engine {
        case .seqbox:
            let store = try loadSeqbox(context, messages: messages)
            report.seconds = Clock.seconds(since: start)
            report.indexBytes = store.indexMemoryBytes()
            if hang { hangUntilKilled(report, directory: context.directory, store: store) }
            try store.close()
        case .sqlite:
            let mailbox = try loadSQLite(context, messages: messages)
            report.seconds = Clock.seconds(since: start)
            if hang { hangUntilKilled(report, directory: context.directory, store: mailbox) }
            mailbox.close()
        }
        report.peakResidentBytes = ProcessMetrics.peakResidentBytes()
        report.storeBytes = FileTree.allocatedBytes(context.directory)
        return report
    }

    private static func loadSeqbox(_ context: ScenarioContext, messages: Int) throws -> MailboxStore {
        var options = StoreOptions()
        options.durability = .none
        let store = try MailboxStore.open(directory: context.dataPath, options: options)
        let inFlight = CountingSemaphore(seqboxWindow)
        let failures = Failures()
        var start = 0
        while start < messages {
            let end = min(messages, start + seqboxBatch)
            let batch = (start ..< end).map { context.workload.message(index: $0).seqboxMessage }
            inFlight.acquire()
            store.append(batch: batch) { result in
                if case .failure = result { failures.add() }
                inFlight.release()
            }
            start = end
        }
        inFlight.drain()
        guard failures.count == 0 else { throw BenchError("\(failures.count) appends failed while loading") }
        return store
    }

    private static func loadSQLite(_ context: ScenarioContext, messages: Int) throws -> SQLiteMailbox {
        let workload = context.workload
        // Counting sort of the message indexes by recipient; a user's seqs follow index order.
        var starts = [Int](repeating: 0, count: workload.users + 2)
        var recipients = [UInt32](repeating: 0, count: messages)
        for index in 0 ..< messages {
            let user = Int(workload.message(index: index).user)
            recipients[index] = UInt32(user)
            starts[user + 1] += 1
        }
        for user in 1 ..< starts.count { starts[user] += starts[user - 1] }
        var order = [UInt32](repeating: 0, count: messages)
        var next = starts
        for index in 0 ..< messages {
            let user = Int(recipients[index])
            order[next[user]] = UInt32(index)
            next[user] += 1
        }
        recipients = []

        let mailbox = try SQLiteMailbox(path: context.dataPath, durable: false)
        var position = 0
        var lastUser: UInt64 = 0
        var seq: UInt32 = 0
        while position < messages {
            let end = min(messages, position + sqliteTransactionRows)
            try mailbox.transaction {
                for slot in position ..< end {
                    let message = workload.message(index: Int(order[slot]))
                    if message.user != lastUser {
                        lastUser = message.user
                        seq = 0
                    }
                    seq += 1
                    try mailbox.load(message, seq: seq)
                }
            }
            position = end
        }
        return mailbox
    }

    /// Prints the report, then waits with the store open until the parent kills us (or exits:
    /// then we exit too, so no orphan is left holding the store).
    private static func hangUntilKilled(_ report: ChildReport, directory: String, store: AnyObject) -> Never {
        var report = report
        report.peakResidentBytes = ProcessMetrics.peakResidentBytes()
        report.storeBytes = FileTree.allocatedBytes(directory)
        let parent = getppid()
        ChildOutput.emit(report)
        while true {
            Clock.sleep(seconds: 0.1)
            blackHole(store)
            if getppid() != parent { exit(1) }
        }
    }
}

/// A failure count shared with completion callbacks.
final class Failures: Sendable {
    private let value = Atomic<Int>(0)
    func add() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}
