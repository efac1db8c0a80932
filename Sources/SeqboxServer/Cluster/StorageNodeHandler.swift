import SeqboxFormat
import SeqboxProtocol
import SeqboxStore
import Synchronization

/// The storage node's side of the storage RPC (PROTOCOL.md §14): the `FrameHandler` behind an
/// `AccessServer` (which runs HELLO, PING, idle timeouts and every bound), serving one
/// `MailboxStore` to gateways.
///
/// A gateway logs in as user 0 on device 0 with a token minted under the cluster's shared
/// secret; before that, storage requests answer `notLoggedIn`. Client-protocol requests (SEND,
/// PULL, …) answer ERROR(badFrame) and close. Requests are served without blocking: append
/// groups go to the store one by one (`EmbeddedMailboxBackend.append`, so groups from every
/// gateway connection share the store's group commits), reads answer on the loop thread, and
/// answers go out as they complete, possibly out of order.
public final class StorageNodeHandler: FrameHandler, Sendable {
    let store: MailboxStore
    let backend: EmbeddedMailboxBackend
    let tokens: TokenAuthority
    let log: ServerLog
    let configuration: StorageNodeConfiguration
    /// Connections that completed LOGIN.
    private let loggedIn = PthreadLocked<Set<ConnectionID>>([])
    /// Writes handed to the store whose answer is not queued yet; closed at shutdown (new
    /// writes answer `unavailable`, reads go on).
    let writes = WriteGate()
    let counters = StorageNodeCounters()

    public init(store: MailboxStore, tokens: TokenAuthority, configuration: StorageNodeConfiguration = StorageNodeConfiguration(),
                log: ServerLog = .silent) {
        self.store = store
        self.backend = EmbeddedMailboxBackend(store: store, retryAfterMs: configuration.retryAfterMs, log: log)
        self.tokens = tokens
        self.configuration = configuration
        self.log = log
    }

    // MARK: FrameHandler

    public func connectionOpened(_ connection: any ConnectionHandle) {
        log.debug("storage_connection_opened", "connection=\(connection.id)")
    }

    public func handle(_ frame: DecodedFrame, from connection: any ConnectionHandle) {
        let requestID = frame.requestID
        switch frame.frame {
        case .login(let login):
            handleLogin(login, requestID: requestID, connection: connection)
        case .ping(let ping):
            connection.send(.pong(Frame.Pong(nonce: ping.nonce)), requestID: requestID)
        case .goodbye:
            connection.close(reason: .peerClosed)
        case .storeAppend, .storePull, .storeLoginState, .storeAck, .storeBlock, .storeCursor, .storeNewest, .storeStats:
            guard loggedIn.withLock({ $0.contains(connection.id) }) else {
                return refuse(connection, requestID: requestID, Frame.ErrorReport(code: .notLoggedIn, message: "log in first"))
            }
            counters.requests.add(1, ordering: .relaxed)
            serve(frame.frame, requestID: requestID, connection: connection)
        default:
            refuse(connection, requestID: requestID,
                   Frame.ErrorReport(code: .badFrame, closing: true, message: "\(frame.frame.type) is not a storage request"))
        }
    }

    public func connectionClosed(_ connection: any ConnectionHandle, reason: CloseReason) {
        if loggedIn.withLock({ $0.remove(connection.id) }) != nil {
            log.info("gateway_disconnected", "connection=\(connection.id) reason=\"\(reason)\"")
        }
    }

    /// Gateways logged in now.
    public var gatewayConnectionCount: Int { loggedIn.withLock { $0.count } }

    // MARK: Login

    /// LOGIN: only the cluster's service identity (user 0, device 0) with a valid token.
    private func handleLogin(_ login: Frame.Login, requestID: UInt32, connection: any ConnectionHandle) {
        guard !loggedIn.withLock({ $0.contains(connection.id) }) else {
            return refuse(connection, requestID: requestID, Frame.ErrorReport(code: .badRequest, message: "already logged in"))
        }
        guard login.user == 0, login.device == 0 else {
            log.info("gateway_login_refused", "connection=\(connection.id) user=\(login.user) device=\(login.device) code=authFailed")
            return refuse(connection, requestID: requestID, Frame.ErrorReport(code: .authFailed, message: "a storage node serves gateways only"))
        }
        let verdict = tokens.verify(token: login.token, user: 0, device: 0, nowSeconds: configuration.wallClockSeconds())
        if case .failure(let refusal) = verdict {
            let code: ErrorCode = refusal == .expired ? .tokenExpired : .authFailed
            log.warning("gateway_login_refused", "connection=\(connection.id) code=\(code)")
            return refuse(connection, requestID: requestID, Frame.ErrorReport(code: code, message: code == .tokenExpired ? "token expired" : "authentication failed"))
        }
        loggedIn.withLock { _ = $0.insert(connection.id) }
        log.info("gateway_connected", "connection=\(connection.id)")
        connection.send(.loginOK(Frame.LoginOK(newestSeq: 0, confirmedSeq: 0, deviceCursor: 0, firstSeq: 0, epoch: 0)), requestID: requestID)
    }

    /// Answers `requestID` with `report`, closing the connection when the report says so.
    func refuse(_ connection: any ConnectionHandle, requestID: UInt32, _ report: Frame.ErrorReport) {
        counters.refused.add(1, ordering: .relaxed)
        connection.send(.error(report), requestID: requestID)
        if report.closing { connection.close(reason: .closedByServer(report.code.name)) }
    }
}

/// The settings of a storage node's handler.
public struct StorageNodeConfiguration: Sendable {
    /// Most records per STORE_PULL answer (requests asking more are clamped).
    public var pullLimitMax = ProtocolConstants.defaultPullLimit
    /// `retryAfterMs` sent with `unavailable` and `overloaded`.
    public var retryAfterMs: UInt32 = 1_000
    /// Unix seconds now (token expiry); replaceable in tests.
    public var wallClockSeconds: @Sendable () -> UInt64 = { wallClockMilliseconds() / 1_000 }

    public init() {}
}

/// What a storage node served, for logs.
final class StorageNodeCounters: Sendable {
    let requests = Atomic<Int>(0)
    let appendGroups = Atomic<Int>(0)
    let refused = Atomic<Int>(0)
}
