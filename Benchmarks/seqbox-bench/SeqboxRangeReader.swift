import SeqboxFormat
import SeqboxStore

/// Range reads from an open `MailboxStore` (thread-safe: every thread shares the store).
final class SeqboxRangeReadEngine: RangeReadEngine, RangeReader, @unchecked Sendable {
    let store: MailboxStore
    private var compressedSeen = Collected((compressed: 0, total: 0))

    init(directory: String) throws {
        var options = StoreOptions()
        options.durability = .none
        store = try MailboxStore.open(directory: directory, options: options)
    }

    func newestSeqs(users: Int) throws -> [UInt32] {
        (1 ... max(users, 1)).map { store.newestSeq(user: UserID(UInt64($0))).rawValue }
    }

    func makeReader() throws -> any RangeReader { self }

    func close() throws { try store.close() }

    /// Samples how many stored payloads are LZ4-compressed (visit hands those out as stored).
    func sampleCompression(users: Int) throws {
        var compressed = 0
        var total = 0
        for user in 1 ... min(users, 100) {
            _ = try store.visit(user: UserID(UInt64(user)), after: .zero, limit: 100) { view in
                total += 1
                if view.header.isCompressed { compressed += 1 }
            }
        }
        compressedSeen.update { $0 = (compressed, total) }
    }

    func notes() -> [String: Double] {
        let seen = compressedSeen.current
        return seen.total == 0 ? [:] : ["compressedPayloadFraction": Double(seen.compressed) / Double(seen.total)]
    }

    func read(user: UInt64, after: UInt32, limit: Int, form: ReadForm, sink: inout UInt64) throws -> Int {
        switch form {
        case .borrowed:
            var local: UInt64 = 0
            let summary = try store.visit(user: UserID(user), after: Seq(after), limit: limit) { view in
                let payload = view.storedPayload
                local &+= UInt64(payload.count) &+ UInt64(payload.first ?? 0) &+ view.header.sender.rawValue
            }
            sink &+= local
            return summary.count
        case .copied:
            let result = try store.read(user: UserID(user), after: Seq(after), limit: limit)
            for message in result.messages {
                sink &+= UInt64(message.payload.count) &+ UInt64(message.payload.first ?? 0) &+ message.sender.rawValue
            }
            return result.messages.count
        }
    }
}
