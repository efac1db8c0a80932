import SeqboxFormat
import SeqboxStore

/// Range reads from SQLite: one connection per reading thread (WAL readers do not block each
/// other), a prepared `SELECT ... WHERE uid = ? AND seq > ? ORDER BY seq LIMIT ?`.
final class SQLiteRangeReadEngine: RangeReadEngine, @unchecked Sendable {
    let path: String
    private let readers = Collected<[SQLiteRangeReader]>([])

    init(path: String) { self.path = path }

    func newestSeqs(users: Int) throws -> [UInt32] {
        let connection = try SQLiteConnection(path: path, durable: false)
        defer { connection.close() }
        var newest = [UInt32](repeating: 0, count: max(users, 1))
        let statement = try connection.prepare("SELECT uid, MAX(seq) FROM messages GROUP BY uid")
        while try statement.step() {
            let user = Int(statement.int(0))
            if user >= 1 && user <= newest.count { newest[user - 1] = UInt32(truncatingIfNeeded: statement.int(1)) }
        }
        statement.reset()
        return newest
    }

    func makeReader() throws -> any RangeReader {
        let reader = try SQLiteRangeReader(path: path)
        readers.update { $0.append(reader) }
        return reader
    }

    func close() throws {
        readers.update { all in
            for reader in all { reader.close() }
            all.removeAll()
        }
    }

    func notes() -> [String: Double] { [:] }
}

/// One thread's SQLite reading connection.
final class SQLiteRangeReader: RangeReader {
    static let selectSQL = "SELECT seq, sender, device, cmid, ts, payload FROM messages WHERE uid = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
    private let connection: SQLiteConnection
    private let select: SQLiteStatement

    init(path: String) throws {
        connection = try SQLiteConnection(path: path, durable: false)
        select = try connection.prepare(Self.selectSQL)
    }

    func close() { connection.close() }

    func read(user: UInt64, after: UInt32, limit: Int, form: ReadForm, sink: inout UInt64) throws -> Int {
        defer { select.reset() }
        select.bind(1, user)
        select.bind(2, UInt64(after))
        select.bind(3, UInt64(limit))
        var count = 0
        switch form {
        case .borrowed:
            var local: UInt64 = 0
            while try select.step() {
                let payload = select.blob(5)
                local &+= UInt64(payload.count) &+ UInt64(payload.first ?? 0) &+ select.int(1)
                count += 1
            }
            sink &+= local
        case .copied:
            var messages: [StoredMessage] = []
            while try select.step() {
                messages.append(StoredMessage(
                    seq: Seq(UInt32(truncatingIfNeeded: select.int(0))), sender: UserID(select.int(1)), device: DeviceID(select.int(2)),
                    clientMessageID: ClientMessageID(select.int(3)), timestampMs: select.int(4), outgoing: false,
                    payload: Array(select.blob(5))))
            }
            for message in messages {
                sink &+= UInt64(message.payload.count) &+ UInt64(message.payload.first ?? 0) &+ message.sender.rawValue
            }
            count = messages.count
        }
        return count
    }
}
