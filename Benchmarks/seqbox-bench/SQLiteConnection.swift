import CSQLite

/// One SQLite connection (opened without SQLite's own mutexes: each connection is used by
/// one thread at a time) with the pragmas an experienced user sets for a message table.
final class SQLiteConnection: @unchecked Sendable {
    /// The page cache each connection may use, in KiB (large enough for the working set).
    static let cacheKiB = 1 << 20
    /// Memory-mapped I/O for reads, larger than any benchmark database.
    static let mmapBytes: Int64 = 16 << 30

    static let schema = """
        CREATE TABLE IF NOT EXISTS messages(
            uid INTEGER NOT NULL, seq INTEGER NOT NULL, sender INTEGER NOT NULL, device INTEGER NOT NULL,
            cmid INTEGER NOT NULL, ts INTEGER NOT NULL, payload BLOB NOT NULL,
            PRIMARY KEY(uid, seq)) WITHOUT ROWID
        """

    let path: String
    private(set) var handle: OpaquePointer?

    /// Opens `path` in WAL mode; `durable` chooses `synchronous=FULL` over `NORMAL`.
    init(path: String, durable: Bool) throws {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &db, flags, nil)
        handle = db
        guard status == SQLITE_OK else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "status \(status)"
            sqlite3_close_v2(db)
            handle = nil
            throw BenchError("sqlite3_open_v2 \(path): \(message)")
        }
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=\(durable ? "FULL" : "NORMAL")")
        try execute("PRAGMA cache_size=-\(Self.cacheKiB)")
        try execute("PRAGMA mmap_size=\(Self.mmapBytes)")
        try execute("PRAGMA temp_store=MEMORY")
        try execute(Self.schema)
    }

    deinit { close() }

    func close() {
        guard let db = handle else { return }
        sqlite3_close_v2(db)
        handle = nil
    }

    /// Runs SQL that returns no rows we need (results are stepped through and dropped).
    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &error) == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? lastError
            sqlite3_free(error)
            throw BenchError("sqlite: \(sql): \(message)")
        }
    }

    func prepare(_ sql: String) throws -> SQLiteStatement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK,
              let statement else {
            throw BenchError("sqlite prepare: \(sql): \(lastError)")
        }
        return SQLiteStatement(statement, connection: self)
    }

    var lastError: String { handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed" }

    static var libraryVersion: String { String(cString: sqlite3_libversion()) }
}

/// A prepared statement, reset after each use.
final class SQLiteStatement: @unchecked Sendable {
    let raw: OpaquePointer
    unowned let connection: SQLiteConnection

    init(_ raw: OpaquePointer, connection: SQLiteConnection) {
        self.raw = raw
        self.connection = connection
    }

    deinit { sqlite3_finalize(raw) }

    @inline(__always) func bind(_ index: Int32, _ value: UInt64) {
        sqlite3_bind_int64(raw, index, Int64(bitPattern: value))
    }

    /// Binds bytes without copying (SQLITE_STATIC): they must stay valid until `reset`.
    @inline(__always) func bind(_ index: Int32, bytes: UnsafeRawBufferPointer) {
        sqlite3_bind_blob(raw, index, bytes.baseAddress, Int32(bytes.count), nil)
    }

    /// Steps once: true for a row, false when done; throws on error.
    @inline(__always) func step() throws -> Bool {
        let status = sqlite3_step(raw)
        if status == SQLITE_ROW { return true }
        if status == SQLITE_DONE { return false }
        throw BenchError("sqlite step: \(connection.lastError)")
    }

    @inline(__always) func reset() {
        sqlite3_reset(raw)
    }

    @inline(__always) func int(_ column: Int32) -> UInt64 {
        UInt64(bitPattern: sqlite3_column_int64(raw, column))
    }

    /// The column's bytes, borrowed: valid until the next step or reset.
    @inline(__always) func blob(_ column: Int32) -> UnsafeRawBufferPointer {
        // The documented order: the pointer first, then its size.
        let start = sqlite3_column_blob(raw, column)
        return UnsafeRawBufferPointer(start: start, count: Int(sqlite3_column_bytes(raw, column)))
    }
}
