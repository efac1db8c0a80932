/// The type byte of a frame header (PROTOCOL.md §4 "Frame types").
///
/// Numbering: `0x01...0x7E` are sent by the client, `0x80...0xFF` by the server (a reply's low
/// bits match its request's where there is one), `0x7F` (GOODBYE) by either side. The storage
/// RPC (§14) uses `0x40...0x4F` for a gateway's requests and `0xC0...0xCF` for a storage node's
/// own answers: the gateway is the client there, the node the server. Any other value is
/// rejected as unknown.
public enum FrameType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case hello = 0x01
    case login = 0x02
    case send = 0x03
    case pull = 0x04
    case ack = 0x05
    case block = 0x06
    case unblock = 0x07
    case ping = 0x08
    case pushRegister = 0x09
    case pushUnregister = 0x0A
    case storeAppend = 0x41
    case storePull = 0x42
    case storeLoginState = 0x43
    case storeAck = 0x44
    case storeBlock = 0x45
    case storeCursor = 0x46
    case storeNewest = 0x47
    case storeStats = 0x48
    case goodbye = 0x7F
    case helloOK = 0x81
    case loginOK = 0x82
    case sendOK = 0x83
    case pullOK = 0x84
    case ackOK = 0x85
    case blockOK = 0x86
    case pong = 0x88
    case pushOK = 0x89
    case truncated = 0x90
    case notify = 0x91
    case error = 0x92
    case storeAppendOK = 0xC1
    case storeNewestOK = 0xC7
    case storeStatsOK = 0xC8

    /// What the header's request ID must be for a frame type (PROTOCOL.md §2 "Request IDs").
    public enum RequestIDRule: Hashable, Sendable {
        /// A client request or its reply: a non-zero ID chosen by the client, echoed by the server.
        case nonZero
        /// An unsolicited frame (NOTIFY, GOODBYE): always 0.
        case zero
        /// ERROR: the failed request's ID, or 0 when it concerns the connection as a whole.
        case any
    }

    /// The name PROTOCOL.md uses, e.g. `HELLO_OK`.
    public var name: String {
        switch self {
        case .hello: "HELLO"
        case .login: "LOGIN"
        case .send: "SEND"
        case .pull: "PULL"
        case .ack: "ACK"
        case .block: "BLOCK"
        case .unblock: "UNBLOCK"
        case .ping: "PING"
        case .goodbye: "GOODBYE"
        case .helloOK: "HELLO_OK"
        case .loginOK: "LOGIN_OK"
        case .sendOK: "SEND_OK"
        case .pullOK: "PULL_OK"
        case .ackOK: "ACK_OK"
        case .blockOK: "BLOCK_OK"
        case .pong: "PONG"
        case .truncated: "TRUNCATED"
        case .notify: "NOTIFY"
        case .error: "ERROR"
        case .pushRegister: "PUSH_REGISTER"
        case .pushUnregister: "PUSH_UNREGISTER"
        case .pushOK: "PUSH_OK"
        case .storeAppend: "STORE_APPEND"
        case .storeAppendOK: "STORE_APPEND_OK"
        case .storePull: "STORE_PULL"
        case .storeLoginState: "STORE_LOGIN_STATE"
        case .storeAck: "STORE_ACK"
        case .storeBlock: "STORE_BLOCK"
        case .storeCursor: "STORE_CURSOR"
        case .storeNewest: "STORE_NEWEST"
        case .storeNewestOK: "STORE_NEWEST_OK"
        case .storeStats: "STORE_STATS"
        case .storeStatsOK: "STORE_STATS_OK"
        }
    }

    public var description: String { name }

    /// Whether `endpoint` may send frames of this type.
    public func isSent(by endpoint: Endpoint) -> Bool {
        if self == .goodbye { return true }
        let sentByServer = rawValue & 0x80 != 0
        return sentByServer == (endpoint == .server)
    }

    /// The request-ID rule of this frame type.
    public var requestIDRule: RequestIDRule {
        switch self {
        case .notify, .goodbye: .zero
        case .error: .any
        default: .nonZero
        }
    }
}
