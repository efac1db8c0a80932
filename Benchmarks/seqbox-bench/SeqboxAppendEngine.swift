import SeqboxStore

/// Seqbox's `MailboxStore` behind the append scenarios: the calls a server makes.
final class SeqboxAppendEngine: AppendEngine, @unchecked Sendable {
    let store: MailboxStore

    init(directory: String, durability: Durability) throws {
        var options = StoreOptions()
        options.durability = durability
        store = try MailboxStore.open(directory: directory, options: options)
    }

    func append(_ message: BenchMessage) throws {
        _ = try store.append(message.seqboxMessage)
    }

    func append(batch messages: [BenchMessage]) throws {
        _ = try store.append(batch: messages.map(\.seqboxMessage))
    }

    func append(_ message: BenchMessage, completion: @escaping @Sendable (Bool) -> Void) {
        store.append(batch: [message.seqboxMessage]) { result in
            if case .success = result { completion(true) } else { completion(false) }
        }
    }

    func close() throws {
        try store.close()
    }

    func counters() -> [String: Double] {
        let stats = store.stats()
        return ["syncs": Double(stats.syncs), "batches": Double(stats.batches), "records": Double(stats.appendedRecords)]
    }
}
