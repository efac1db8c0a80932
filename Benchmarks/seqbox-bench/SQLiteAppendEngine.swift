#if canImport(Glibc)
import Glibc
#endif

/// SQLite behind the append scenarios, with concurrency handled as SQLite users do: a lone
/// appender writes through the connection itself (one transaction per append, or per batch);
/// concurrent and asynchronous appenders queue to one writer thread that owns the
/// connection and commits whatever is queued in one transaction.
final class SQLiteAppendEngine: AppendEngine, @unchecked Sendable {
    /// Largest transaction the writer builds from the queue (Seqbox's batch bound).
    static let batchMessagesMax = 8192

    private struct Request {
        var message: BenchMessage
        var completion: @Sendable (Bool) -> Void
    }

    private let mailbox: SQLiteMailbox
    private let direct: Bool
    private let queue = ConditionMutex()
    private var pending: [Request] = []
    private var stopping = false
    private var writer: pthread_t?
    // Counted by whichever thread writes; read under `queue`.
    private var transactions = 0
    private var records = 0

    /// `direct`: the calling thread writes (only one appender thread may call); otherwise a
    /// writer thread batches the queue.
    init(path: String, durable: Bool, direct: Bool) throws {
        mailbox = try SQLiteMailbox(path: path, durable: durable)
        self.direct = direct
        if !direct { startWriter() }
    }

    func append(_ message: BenchMessage) throws {
        if direct {
            _ = try mailbox.transaction { try mailbox.insert(message) }
            count(transactions: 1, records: 1)
            return
        }
        let done = OneShot()
        append(message) { done.complete($0) }
        guard done.wait() else { throw BenchError("sqlite append failed") }
    }

    func append(batch messages: [BenchMessage]) throws {
        precondition(direct, "batches are written by the lone appender")
        try mailbox.transaction { for message in messages { _ = try mailbox.insert(message) } }
        count(transactions: 1, records: messages.count)
    }

    func append(_ message: BenchMessage, completion: @escaping @Sendable (Bool) -> Void) {
        precondition(!direct, "asynchronous appends go through the writer thread")
        queue.lock()
        pending.append(Request(message: message, completion: completion))
        if pending.count == 1 { queue.signal() }
        queue.unlock()
    }

    func close() throws {
        if let writer {
            queue.withLock {
                stopping = true
                queue.broadcast()
            }
            pthread_join(writer, nil)
            self.writer = nil
        }
        mailbox.close()
    }

    func counters() -> [String: Double] {
        queue.withLock { ["transactions": Double(transactions), "records": Double(records)] }
    }

    private func count(transactions: Int, records: Int) {
        queue.withLock {
            self.transactions += transactions
            self.records += records
        }
    }

    // MARK: The writer thread

    private func startWriter() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            let engine = Unmanaged<SQLiteAppendEngine>.fromOpaque(raw!).takeRetainedValue()
            engine.writerLoop()
            return nil
        }, context)
        precondition(status == 0, "pthread_create failed: \(status)")
        writer = thread
    }

    private func writerLoop() {
        var batch: [Request] = []
        batch.reserveCapacity(Self.batchMessagesMax)
        while true {
            queue.lock()
            while pending.isEmpty && !stopping { queue.wait() }
            if pending.isEmpty {
                queue.unlock()
                return
            }
            if pending.count <= Self.batchMessagesMax {
                swap(&batch, &pending)
            } else {
                batch.append(contentsOf: pending[0 ..< Self.batchMessagesMax])
                pending.removeFirst(Self.batchMessagesMax)
            }
            queue.unlock()

            let succeeded: Bool
            do {
                try mailbox.transaction { for request in batch { _ = try mailbox.insert(request.message) } }
                succeeded = true
                count(transactions: 1, records: batch.count)
            } catch {
                printError("sqlite writer: \(error)")
                succeeded = false
            }
            for request in batch { request.completion(succeeded) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}

/// A one-time completion a thread blocks on.
final class OneShot: @unchecked Sendable {
    private let mutex = ConditionMutex()
    private var value: Bool?

    func complete(_ succeeded: Bool) {
        mutex.withLock {
            value = succeeded
            mutex.signal()
        }
    }

    func wait() -> Bool {
        mutex.withLock {
            while value == nil { mutex.wait() }
            return value!
        }
    }
}
