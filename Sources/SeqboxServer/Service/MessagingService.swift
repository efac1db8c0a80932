import SeqboxFormat
import SeqboxProtocol
import SeqboxStore
import Synchronization

/// The service logic behind the access layer: login, the send, push and receive paths, acks
/// and blocklists (PROTOCOL.md §3, §5, §11), over a `MailboxBackend`: the embedded store, or
/// storage nodes reached over the storage RPC (gateway role).
///
/// Threads: frames of one connection arrive on its event-loop thread, in order. Refusals are
/// answered there; everything else goes to the backend without blocking, and its completion
/// (on the loop itself for an embedded read, on the store's writer thread for a durable write,
/// on a storage client's thread for a remote call) sends the reply through the thread-safe
/// `ConnectionHandle` and schedules NOTIFYs.
public final class MessagingService: FrameHandler, Sendable {
    /// Most BLOCK/UNBLOCK requests queued at once; beyond it they are answered `overloaded`.
    public static let blocklistWritesPendingMax = 1024

    let backend: any MailboxBackend
    let tokens: TokenAuthority
    let configuration: ServiceConfiguration
    let contentFilter: any ContentFilter
    let log: ServerLog
    let registry = SessionRegistry()
    let rateLimiter: RateLimiter
    let pushPath: PushPath
    let counters = ServiceCounters()
    let blocklistWritesPending = Atomic<Int>(0)
    /// Writes handed to the backend whose completion has not run yet; closed by `beginShutdown`.
    let writes = WriteGate()

    /// A service over the embedded `store`.
    public convenience init(
        store: MailboxStore, tokens: TokenAuthority, configuration: ServiceConfiguration = ServiceConfiguration(),
        contentFilter: any ContentFilter = AcceptAllContentFilter(), offlinePush: (any OfflinePushGateway)? = nil,
        log: ServerLog = .silent
    ) {
        self.init(backend: EmbeddedMailboxBackend(store: store, retryAfterMs: configuration.retryAfterUnavailableMs, log: log),
                  tokens: tokens, configuration: configuration, contentFilter: contentFilter, offlinePush: offlinePush, log: log)
    }

    public init(
        backend: any MailboxBackend, tokens: TokenAuthority, configuration: ServiceConfiguration = ServiceConfiguration(),
        contentFilter: any ContentFilter = AcceptAllContentFilter(), offlinePush: (any OfflinePushGateway)? = nil,
        log: ServerLog = .silent
    ) {
        precondition((try? configuration.validate()) != nil, "invalid service configuration")
        self.backend = backend
        self.tokens = tokens
        self.configuration = configuration
        self.contentFilter = contentFilter
        self.log = log
        self.rateLimiter = RateLimiter(limit: configuration.sendRate, keysMax: configuration.rateLimiterSendersMax,
                                       clock: configuration.monotonicNs)
        self.pushPath = PushPath(registry: registry, offlinePush: offlinePush ?? LoggingOfflinePush(log: log))
    }

    // MARK: FrameHandler

    public func connectionOpened(_ connection: any ConnectionHandle) {
        registry.open(Session(connection: connection))
    }

    public func handle(_ frame: DecodedFrame, from connection: any ConnectionHandle) {
        guard let session = registry.session(for: connection.id) else {
            // Opened before this service saw it, or already closed: nothing to answer for.
            log.warning("unknown_connection", "connection=\(connection.id)")
            connection.close(reason: .closedByServer("unknown connection"))
            return
        }
        let requestID = frame.requestID
        switch frame.frame {
        case .login(let login): handleLogin(login, requestID: requestID, session: session)
        case .send(let send): withIdentity(session, requestID) { handleSend(send, requestID: requestID, session: session, as: $0) }
        case .pull(let pull): withIdentity(session, requestID) { handlePull(pull, requestID: requestID, session: session, as: $0) }
        case .ack(let ack): withIdentity(session, requestID) { handleAck(ack, requestID: requestID, session: session, as: $0) }
        case .block(let block):
            withIdentity(session, requestID) { changeBlock(of: UserID(block.user), blocked: true, requestID: requestID, session: session, as: $0) }
        case .unblock(let unblock):
            withIdentity(session, requestID) { changeBlock(of: UserID(unblock.user), blocked: false, requestID: requestID, session: session, as: $0) }
        case .pushRegister(let register): withIdentity(session, requestID) { handlePushRegister(register, requestID: requestID, session: session, as: $0) }
        case .pushUnregister: withIdentity(session, requestID) { handlePushUnregister(requestID: requestID, session: session, as: $0) }
        case .ping(let ping):
            connection.send(.pong(Frame.Pong(nonce: ping.nonce)), requestID: requestID)
        case .goodbye:
            connection.close(reason: .peerClosed)
        default:
            refuse(session, requestID: requestID, Frame.ErrorReport(code: .badFrame, closing: true, message: "\(frame.frame.type) not allowed here"))
        }
    }

    public func connectionClosed(_ connection: any ConnectionHandle, reason: CloseReason) {
        guard let session = registry.close(connection.id) else { return }
        if let identity = session.identity {
            log.debug("logout", "connection=\(connection.id) user=\(identity.user) device=\(identity.device) reason=\"\(reason)\"")
        }
    }

    // MARK: Helpers

    /// Runs `body` with the session's identity, or answers `notLoggedIn`.
    func withIdentity(_ session: Session, _ requestID: UInt32, _ body: (SessionIdentity) -> Void) {
        guard let identity = session.identity else {
            refuse(session, requestID: requestID, Frame.ErrorReport(code: .notLoggedIn, message: "log in first"))
            return
        }
        body(identity)
    }

    /// Answers `requestID` with `report`, closing the connection when the report says so.
    func refuse(_ session: Session, requestID: UInt32, _ report: Frame.ErrorReport) {
        refuse(session.connection, requestID: requestID, report)
    }

    /// Answers `requestID` on `connection` with `report` (any thread).
    func refuse(_ connection: any ConnectionHandle, requestID: UInt32, _ report: Frame.ErrorReport) {
        counters.refused.add(1, ordering: .relaxed)
        connection.send(.error(report), requestID: requestID)
        if report.closing { connection.close(reason: .closedByServer(report.code.name)) }
    }

    /// A write refused because the server is shutting down.
    var shuttingDownReport: Frame.ErrorReport {
        Frame.ErrorReport(code: .unavailable, retryAfterMs: configuration.shutdownReconnectAfterMs, message: "server shutting down")
    }
}

/// Event counts for the shutdown report and benchmarks.
final class ServiceCounters: Sendable {
    let logins = Atomic<Int>(0)
    let sendsStored = Atomic<Int>(0)
    let sendsDuplicate = Atomic<Int>(0)
    let pulls = Atomic<Int>(0)
    let acks = Atomic<Int>(0)
    let refused = Atomic<Int>(0)
}
