/// Why a side ends the connection cleanly with GOODBYE: a u16 (PROTOCOL.md §5.18). A struct, not
/// an enum, so reasons added later still decode; an unknown reason is treated like `normal`.
public struct GoodbyeReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// The sender is done (app closing, user logged out). Reconnect only when needed.
    public static let normal = GoodbyeReason(1)
    /// The server is shutting down or draining; reconnect after `reconnectAfterMs` plus jitter.
    public static let serverShutdown = GoodbyeReason(2)
    /// The same user and device logged in on another connection; do not reconnect automatically.
    public static let replaced = GoodbyeReason(3)

    /// The name PROTOCOL.md uses, or `unknown(N)`.
    public var name: String {
        switch self {
        case .normal: "normal"
        case .serverShutdown: "serverShutdown"
        case .replaced: "replaced"
        default: "unknown(\(rawValue))"
        }
    }

    public var description: String { name }
}
