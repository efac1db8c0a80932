/// What the range-read scenario drives. One `RangeReader` per reading thread.
protocol RangeReadEngine: AnyObject, Sendable {
    /// The newest seq of each user 1...users (index 0 is user 1).
    func newestSeqs(users: Int) throws -> [UInt32]
    func makeReader() throws -> any RangeReader
    func close() throws
    /// Notes for the report (e.g. the fraction of payloads stored compressed).
    func notes() -> [String: Double]
}

/// How a range read hands messages to the caller.
enum ReadForm: String, Codable, Sendable {
    /// Borrowed, zero-copy views valid during the call (Seqbox `visit`, SQLite column pointers).
    case borrowed
    /// Owned copies (Seqbox `read`, SQLite columns copied into `StoredMessage`s).
    case copied
}

/// One thread's reader: reads `user`'s messages after `after`, at most `limit`, and returns
/// how many it got. `sink` accumulates a value derived from every payload so nothing is
/// optimized away.
protocol RangeReader: AnyObject {
    func read(user: UInt64, after: UInt32, limit: Int, form: ReadForm, sink: inout UInt64) throws -> Int
}
