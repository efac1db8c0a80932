/// The code of an ERROR frame: a u16 (PROTOCOL.md §9 "Error codes", which says what a client does
/// for each). A struct, not an enum, so a client decodes codes added by newer servers; it then
/// acts on the ERROR's closing flag and retry-after alone.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// A frame could not be decoded, or arrived in a state where it is not allowed. Closing.
    public static let badFrame = ErrorCode(1)
    /// A frame declared a length above the limit. Closing.
    public static let frameTooLarge = ErrorCode(2)
    /// No protocol version in HELLO's range is spoken by the server. Closing.
    public static let unsupportedVersion = ErrorCode(3)
    /// A request that needs a login arrived before LOGIN_OK.
    public static let notLoggedIn = ErrorCode(4)
    /// The LOGIN token is malformed or its MAC does not verify. Closing.
    public static let authFailed = ErrorCode(5)
    /// The LOGIN token's expiry has passed. Closing.
    public static let tokenExpired = ErrorCode(6)
    /// The request touches what this login may not (another user's mailbox).
    public static let forbidden = ErrorCode(7)
    /// A SEND body is above the server's `messageBodySizeMax`; nothing was stored.
    public static let payloadTooLarge = ErrorCode(8)
    /// Too many requests; retry after `retryAfterMs`.
    public static let rateLimited = ErrorCode(9)
    /// The recipient blocks the sender; nothing was stored.
    public static let blocked = ErrorCode(10)
    /// The content was refused by a policy check (spam, abuse); nothing was stored.
    public static let contentRejected = ErrorCode(11)
    /// The recipient's mailbox has used its last seq (2^32-1); nothing was stored.
    public static let sequenceExhausted = ErrorCode(12)
    /// The store is temporarily unreachable; retry after `retryAfterMs`.
    public static let unavailable = ErrorCode(13)
    /// The server sheds load; retry after `retryAfterMs` (closing when it sheds the connection).
    public static let overloaded = ErrorCode(14)
    /// The client read too slowly and its output buffer hit the limit. Closing.
    public static let slowConsumer = ErrorCode(15)
    /// Nothing arrived from the client within the idle timeout. Closing.
    public static let idleTimeout = ErrorCode(16)
    /// A server bug or unexpected failure.
    public static let `internal` = ErrorCode(17)
    /// A well-formed request with a value the server refuses (ACK above the newest seq, SEND to
    /// user 0, a second LOGIN).
    public static let badRequest = ErrorCode(18)

    /// Every code this version defines, in numeric order.
    public static let allDefined: [ErrorCode] = [
        .badFrame, .frameTooLarge, .unsupportedVersion, .notLoggedIn, .authFailed, .tokenExpired,
        .forbidden, .payloadTooLarge, .rateLimited, .blocked, .contentRejected, .sequenceExhausted,
        .unavailable, .overloaded, .slowConsumer, .idleTimeout, .internal, .badRequest,
    ]

    /// Whether the server closes the connection after an ERROR with this code, unless the code
    /// says otherwise (`overloaded` may or may not close; the ERROR's flag decides).
    public var closesConnectionByDefault: Bool {
        switch self {
        case .badFrame, .frameTooLarge, .unsupportedVersion, .authFailed, .tokenExpired,
             .slowConsumer, .idleTimeout:
            true
        default:
            false
        }
    }

    /// The name PROTOCOL.md uses, e.g. `rateLimited`, or `unknown(N)`.
    public var name: String {
        switch self {
        case .badFrame: "badFrame"
        case .frameTooLarge: "frameTooLarge"
        case .unsupportedVersion: "unsupportedVersion"
        case .notLoggedIn: "notLoggedIn"
        case .authFailed: "authFailed"
        case .tokenExpired: "tokenExpired"
        case .forbidden: "forbidden"
        case .payloadTooLarge: "payloadTooLarge"
        case .rateLimited: "rateLimited"
        case .blocked: "blocked"
        case .contentRejected: "contentRejected"
        case .sequenceExhausted: "sequenceExhausted"
        case .unavailable: "unavailable"
        case .overloaded: "overloaded"
        case .slowConsumer: "slowConsumer"
        case .idleTimeout: "idleTimeout"
        case .internal: "internal"
        case .badRequest: "badRequest"
        default: "unknown(\(rawValue))"
        }
    }

    public var description: String { name }
}
