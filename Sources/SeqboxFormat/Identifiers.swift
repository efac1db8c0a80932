/// A user (mailbox owner, sender, or blocked user). Stored as a little-endian u64.
public struct UserID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static func < (lhs: UserID, rhs: UserID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// One of a user's devices. Stored as a little-endian u64.
public struct DeviceID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static func < (lhs: DeviceID, rhs: DeviceID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// A position in one mailbox's sequence: 1, 2, 3, … contiguous; 0 means "nothing".
/// Stored as a little-endian u32 (DESIGN.md invariant 1).
public struct Seq: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }
    public static let zero = Seq(0)
    /// The last seq a mailbox can hold; appending past it fails with `sequenceExhausted`.
    public static let max = Seq(UInt32.max)
    public static func < (lhs: Seq, rhs: Seq) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// A client's id for one message, unique per (sender, device): the idempotency key.
public struct ClientMessageID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public var description: String { String(rawValue) }
}

/// A byte position in the whole log: a segment's base position plus an offset inside it.
/// Segment files are named by the position of their first byte.
public struct LogPosition: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static let zero = LogPosition(0)
    public static func < (lhs: LogPosition, rhs: LogPosition) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// A mailbox's epoch: bumped when acknowledged data had to be dropped (DESIGN.md invariant 3).
public struct Epoch: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }
    /// Every mailbox starts in epoch 1 (0 means "unknown" on the wire).
    public static let initial = Epoch(1)
    public static func < (lhs: Epoch, rhs: Epoch) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}
