/// The exit statuses shared by the offline tools (documented in each tool's `--help`).
public enum ToolExit {
    /// Nothing wrong was found (fsck), or the requested output was produced (dump).
    public static let clean: Int32 = 0
    /// fsck found problems (or, with `--repair`, problems remain).
    public static let problems: Int32 = 1
    /// Bad arguments, a missing or unreadable directory, a file that is not a Seqbox segment,
    /// an unknown format version, or a store locked by a running server (repair).
    public static let unusable: Int32 = 2
}

/// Ends a run with `ToolExit.unusable` and one clear line on stderr: an argument the tool
/// cannot use, or a directory it cannot read as a store.
public struct UnusableInput: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
