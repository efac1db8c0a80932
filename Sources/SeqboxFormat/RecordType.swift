/// What a record says. The log is the database: every piece of state is one of these
/// (FORMAT.md "Record types").
public enum RecordType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// A message in `user`'s mailbox at `seq`, from `sender`/`device` with `clientMessageId`.
    case message = 1
    /// `user`'s `device` holds everything up to `seq` (a device cursor).
    case ack = 2
    /// `user` blocks `sender` (the blocked user).
    case block = 3
    /// `user` unblocks `sender`.
    case unblock = 4
    /// `user`'s mailbox moved to epoch `clientMessageId` (low 32 bits) because data was dropped
    /// by a repair; `sender` holds the first lost seq, `device` the last, and `seq` the newest
    /// seq after the change (lost seqs stay used: the newest seq never goes back).
    case epochChange = 5
    /// Filler written by a repair over bytes that were corrupt, so the segment scans clean and
    /// keeps its offsets; carries no state. `user`, `seq` and the ids are 0.
    case padding = 6

    public var description: String {
        switch self {
        case .message: "message"
        case .ack: "ack"
        case .block: "block"
        case .unblock: "unblock"
        case .epochChange: "epoch"
        case .padding: "padding"
        }
    }

    /// Parses the names printed by `description` (for tool filters).
    public init?(name: String) {
        guard let match = RecordType.allCases.first(where: { $0.description == name }) else { return nil }
        self = match
    }
}
