/// The SQLite mailbox, written the way an experienced SQLite user writes it: one writer
/// connection, prepared statements, the per-user seq computed inside the inserting
/// transaction (`MAX(seq)` of the user's primary-key range, plus one).
final class SQLiteMailbox: @unchecked Sendable {
    static let insertSQL = """
        INSERT INTO messages(uid, seq, sender, device, cmid, ts, payload)
        VALUES(?1, (SELECT IFNULL(MAX(seq), 0) + 1 FROM messages WHERE uid = ?1), ?2, ?3, ?4, ?5, ?6)
        RETURNING seq
        """
    /// Bulk load with seqs already known (used only to build the read and open data sets).
    static let loadSQL = "INSERT INTO messages(uid, seq, sender, device, cmid, ts, payload) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"

    let connection: SQLiteConnection
    private let begin: SQLiteStatement
    private let commit: SQLiteStatement
    private let rollback: SQLiteStatement
    private let insert: SQLiteStatement
    private let load: SQLiteStatement

    init(path: String, durable: Bool) throws {
        connection = try SQLiteConnection(path: path, durable: durable)
        begin = try connection.prepare("BEGIN IMMEDIATE")
        commit = try connection.prepare("COMMIT")
        rollback = try connection.prepare("ROLLBACK")
        insert = try connection.prepare(Self.insertSQL)
        load = try connection.prepare(Self.loadSQL)
    }

    func close() {
        connection.close()
    }

    /// Runs `body` in one write transaction; rolls back if it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try run(begin)
        do {
            let value = try body()
            try run(commit)
            return value
        } catch {
            _ = try? run(rollback)
            throw error
        }
    }

    /// Inserts one message inside the current transaction; returns its seq.
    func insert(_ message: BenchMessage) throws -> UInt32 {
        defer { insert.reset() }
        insert.bind(1, message.user)
        insert.bind(2, message.sender)
        insert.bind(3, BenchMessage.device)
        insert.bind(4, message.clientMessageID)
        insert.bind(5, BenchMessage.timestampMs)
        return try message.payload.withUnsafeBytes { payload in
            insert.bind(6, bytes: payload)
            guard try insert.step() else { throw BenchError("sqlite insert returned no seq") }
            let seq = UInt32(truncatingIfNeeded: insert.int(0))
            while try insert.step() {}
            return seq
        }
    }

    /// Inserts a message with a known seq (bulk load).
    func load(_ message: BenchMessage, seq: UInt32) throws {
        defer { load.reset() }
        load.bind(1, message.user)
        load.bind(2, UInt64(seq))
        load.bind(3, message.sender)
        load.bind(4, BenchMessage.device)
        load.bind(5, message.clientMessageID)
        load.bind(6, BenchMessage.timestampMs)
        try message.payload.withUnsafeBytes { payload in
            load.bind(7, bytes: payload)
            _ = try load.step()
        }
    }

    private func run(_ statement: SQLiteStatement) throws {
        defer { statement.reset() }
        _ = try statement.step()
    }
}
