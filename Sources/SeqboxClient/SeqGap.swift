/// A range of seqs that will not be delivered.
public struct SeqGap: Equatable, Sendable {
    /// Why the records are missing.
    public enum Reason: Equatable, Sendable {
        /// Deleted by retention before this device pulled them.
        case expired
        /// Lost on the server (a repair after corruption changed the epoch).
        case lost
    }

    /// The first missing seq.
    public var first: UInt32
    /// The last missing seq.
    public var last: UInt32
    public var reason: Reason
}
