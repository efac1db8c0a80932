import SeqboxProtocol

/// The client's protocol logic (PROTOCOL.md §7, §10, §11) as a pure state machine: it is fed
/// connection events, decoded frames and the time, and answers with `ClientAction`s. It does no
/// I/O and reads no clock, so tests drive it frame by frame; `MailboxClient` runs it on a
/// socket.
///
/// Invariants it keeps:
/// - `state.heldSeq` only grows within an epoch, and every seq up to it was delivered once (or
///   reported in a `gap`). Records at or below it are never delivered again.
/// - A message stays in `state.outbox` until SEND_OK, a final refusal, or its own outgoing copy
///   pulled from the mailbox proves it stored; every (re)send carries its one client message ID.
/// - A message already written on some connection is resent only after this connection's sync
///   (the sync-first rule of §10.1), and each recipient has at most one SEND in flight.
struct ClientCore: Sendable {
    /// The phases of §10.1.
    enum Phase: Equatable, Sendable {
        /// Created, `start` not called.
        case idle
        /// Waiting out the reconnect backoff.
        case waiting(until: UInt64)
        /// A TCP connect is in progress.
        case connecting(since: UInt64)
        /// HELLO and LOGIN are sent; waiting for LOGIN_OK.
        case handshaking
        /// Logged in, pulling up to the newest seq; only never-sent messages go out.
        case syncing
        /// Caught up once on this connection: every message may go out.
        case live
        /// Stopped for good.
        case stopped
    }

    /// A request written on the current connection and not yet answered.
    struct Pending: Sendable {
        enum Kind: Sendable {
            case hello, login, ping
            case send(OutboxEntry)
            case pull
            case ack(UInt32)
            case block(id: UInt64)
            case history(id: UInt64)
            case push(id: UInt64)
        }

        var kind: Kind
        var sentAt: UInt64
    }

    /// What exists only while a connection is open.
    struct Connection: Sendable {
        var nextRequestID: UInt32 = 1
        var inFlight: [UInt32: Pending] = [:]
        /// HELLO_OK's limits, once it arrived.
        var server: Frame.HelloOK?
        var lastWriteAt: UInt64
        /// The sync PULL in flight, if any (at most one, §10.1).
        var pullRequestID: UInt32?
        /// The newest seq the server announced (LOGIN_OK, NOTIFY, PULL_OK, TRUNCATED).
        var targetSeq: UInt32 = 0
        /// A NOTIFY named another epoch: pull to learn the change (TRUNCATED).
        var epochCheckDue = false
        /// The highest seq this connection acknowledged (or the server's cursor at login).
        var ackedSeq: UInt32 = 0
        var ackInFlight = false
        var batchesSinceAck = 0
        var pingInFlight = false
        /// Recipients with a SEND in flight, and its request ID.
        var sendByRecipient: [UInt64: UInt32] = [:]

        init(now: UInt64) { lastWriteAt = now }
    }

    /// A BLOCK or UNBLOCK the application asked for, until BLOCK_OK or a refusal.
    struct BlockRequest: Sendable {
        var id: UInt64
        var user: UInt64
        var blocked: Bool
        var requestID: UInt32?
        var retryAt: UInt64 = 0
    }

    /// A history read the application asked for.
    struct HistoryRequest: Sendable {
        var id: UInt64
        var after: UInt32
        var limit: UInt16
        var requestID: UInt32?
        var retryAt: UInt64 = 0
    }

    /// A PUSH_REGISTER or PUSH_UNREGISTER the application asked for, until PUSH_OK or a
    /// refusal. Only the newest one is kept: it is the device's wanted state.
    struct PushRequest: Sendable {
        var id: UInt64
        /// `.pushRegister` or `.pushUnregister`.
        var frame: Frame
        var requestID: UInt32?
        var retryAt: UInt64 = 0
    }

    /// An ACK is sent during a long sync after this many PULL_OK batches (§10.1).
    static let ackEveryBatches = 8
    /// Requests kept free of SENDs within the server's `requestsInFlightMax` for PULL, ACK,
    /// PING, BLOCK, history and push registration.
    static let requestsReservedForControl = 8

    let configuration: ClientConfiguration
    let backoff: ReconnectBackoff
    private(set) var state: ClientState
    /// The state changed since `markSaved()`.
    private(set) var stateDirty = false
    var phase: Phase = .idle
    var connection: Connection?
    var random: SplitMix64

    /// Failures since the last LOGIN_OK (the backoff exponent).
    var failedAttempts = 0
    /// A delay the server asked for (retryAfterMs, reconnectAfterMs) before the next connect.
    var serverReconnectFloorMs: UInt64 = 0
    /// Messages enqueued in this process and never written: they may go out before the sync.
    var neverWritten: Set<UInt64> = []
    /// Earliest resend time of messages the server asked to retry later.
    var sendRetryAt: [UInt64: UInt64] = [:]
    /// `internal` answers per message.
    var internalErrors: [UInt64: Int] = [:]
    /// Messages in flight whose outgoing copy was already pulled: stored for sure; removed from
    /// the outbox; the SEND_OK is still awaited for the recipient's seq. Value: the copy's seq.
    var storedWhileInFlight: [UInt64: UInt32] = [:]
    var pullRetryAt: UInt64 = 0
    var blockRequests: [BlockRequest] = []
    var historyRequests: [HistoryRequest] = []
    var pushRequest: PushRequest?
    var nextLocalID: UInt64 = 1
    var pingNonce: UInt64 = 0
    /// Messages written at least once by this process (a later write is a resend).
    var everWritten: Set<UInt64> = []
    var statistics = ClientStatistics()
    private var actions: [ClientAction] = []

    /// A core for `configuration`, resuming `state` (a fresh one if nil).
    init(configuration: ClientConfiguration, state: ClientState?) {
        self.configuration = configuration
        backoff = ReconnectBackoff(initialMs: configuration.reconnectBackoffInitialMs, maxMs: configuration.reconnectBackoffMaxMs)
        random = configuration.randomSeed.map { SplitMix64(seed: $0) } ?? SplitMix64()
        if let state {
            self.state = state
        } else {
            // A random first ID (below 2^62, so the counter has room) keeps IDs unique even when
            // a device reinstalls and loses its state.
            let first = random.next() & ((1 << 62) - 1)
            self.state = ClientState(user: configuration.user, device: configuration.device, firstClientMessageID: first)
            stateDirty = true
        }
    }

    // MARK: Driver interface

    /// Takes the actions produced since the last call, in order.
    mutating func takeActions() -> [ClientAction] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    /// The driver saved `state`.
    mutating func markSaved() { stateDirty = false }

    /// Starts connecting.
    mutating func start(now: UInt64) {
        guard phase == .idle else { return }
        phase = .waiting(until: now)
        tick(now: now)
    }

    /// Stops for good: GOODBYE on an open connection, then close.
    mutating func stop(now: UInt64, reason: StopReason = .requested) {
        guard phase != .stopped else { return }
        if reason == .requested, isLoggedIn, let connection {
            // Acknowledge what was delivered, so the user's other devices start after it.
            if configuration.syncsMailbox, state.heldSeq > connection.ackedSeq, !stateDirty {
                write(.ack(Frame.Ack(seq: state.heldSeq)), kind: .ack(state.heldSeq), now: now)
            }
            actions.append(.write(.goodbye(Frame.Goodbye(reason: .normal)), requestID: 0))
        }
        if connection != nil || isConnecting { actions.append(.close) }
        connection = nil
        phase = .stopped
        for request in historyRequests { actions.append(.historyResult(id: request.id, .failure(.stopped))) }
        historyRequests.removeAll()
        pushRequest = nil
        emit(.stopped(reason))
    }

    /// The TCP connection opened: send HELLO and, right behind it, LOGIN (§3).
    mutating func connected(now: UInt64) {
        guard isConnecting else { return }
        connection = Connection(now: now)
        phase = .handshaking
        write(.hello(Frame.Hello()), kind: .hello, now: now)
        let login = Frame.Login(user: configuration.user, device: configuration.device,
                                fullHistory: configuration.fullHistory, token: configuration.token)
        write(.login(login), kind: .login, now: now)
    }

    /// The TCP connection could not be opened.
    mutating func connectFailed(_ reason: DisconnectReason, now: UInt64) {
        guard isConnecting else { return }
        disconnect(reason, now: now)
    }

    /// The open connection broke or was closed by the server.
    mutating func connectionLost(_ reason: DisconnectReason, now: UInt64) {
        guard connection != nil else { return }
        disconnect(reason, now: now)
    }

    /// The server sent bytes that are not a valid frame.
    mutating func malformedInput(_ error: ProtocolError, now: UInt64) {
        guard connection != nil else { return }
        disconnect(.protocolViolation(error.description), now: now)
    }

    /// Timers (connect and reply timeouts, heartbeat, retries, reconnect), then whatever can be
    /// sent now. The driver calls it after every batch of input and at `nextDeadline`.
    mutating func tick(now: UInt64) {
        switch phase {
        case .waiting(let until) where now >= until:
            phase = .connecting(since: now)
            statistics.connectAttempts += 1
            actions.append(.connect)
        case .connecting(let since) where now >= since + configuration.connectTimeoutMs:
            disconnect(.connectTimedOut, now: now)
        case .handshaking, .syncing, .live:
            if let oldest = oldestRequestSentAt, now >= oldest + configuration.replyTimeoutMs {
                disconnect(.replyTimedOut, now: now)
                return
            }
            pump(now: now)
        default:
            break
        }
    }

    /// When `tick` has something to do next, if ever.
    func nextDeadline() -> UInt64? {
        switch phase {
        case .waiting(let until): return until
        case .connecting(let since): return since + configuration.connectTimeoutMs
        case .handshaking, .syncing, .live:
            guard let connection else { return nil }
            var deadline = oldestRequestSentAt.map { $0 + configuration.replyTimeoutMs }
            func consider(_ time: UInt64?) {
                guard let time else { return }
                deadline = min(deadline ?? time, time)
            }
            if connection.server != nil, phase != .handshaking { consider(connection.lastWriteAt + heartbeatIntervalMs) }
            consider(sendRetryAt.values.min())
            if pullRetryAt > 0 { consider(pullRetryAt) }
            consider(blockRequests.lazy.filter { $0.requestID == nil && $0.retryAt > 0 }.map(\.retryAt).min())
            consider(historyRequests.lazy.filter { $0.requestID == nil && $0.retryAt > 0 }.map(\.retryAt).min())
            if let pushRequest, pushRequest.requestID == nil, pushRequest.retryAt > 0 { consider(pushRequest.retryAt) }
            return deadline
        case .idle, .stopped:
            return nil
        }
    }

    // MARK: Application requests

    /// Queues a message; returns its client message ID. The driver saves the state before the
    /// SEND is written.
    mutating func enqueueSend(to recipient: UInt64, body: [UInt8]) throws(ClientError) -> UInt64 {
        guard phase != .stopped else { throw .notRunning }
        guard configuration.syncsMailbox else { throw .sendingDisabled }
        guard recipient != 0, recipient != configuration.user else { throw .invalidRecipient(recipient) }
        let limit = Int(connection?.server?.messageBodySizeMax ?? UInt32(ProtocolConstants.messageBodySizeMax))
        guard body.count <= limit else { throw .bodyTooLarge(size: body.count, limit: limit) }
        guard state.outbox.count < configuration.outboxMax else { throw .outboxFull(limit: configuration.outboxMax) }
        let id = state.takeClientMessageID()
        state.outbox.append(OutboxEntry(clientMessageID: id, recipient: recipient, body: body))
        neverWritten.insert(id)
        stateDirty = true
        return id
    }

    /// Queues a BLOCK (or UNBLOCK) of `user`, retried across reconnects until answered.
    mutating func enqueueBlock(user: UInt64, blocked: Bool) throws(ClientError) {
        guard phase != .stopped else { throw .notRunning }
        blockRequests.append(BlockRequest(id: takeLocalID(), user: user, blocked: blocked))
    }

    /// Queues a history read; its result comes as `.historyResult` with the returned ID.
    mutating func enqueueHistory(after: UInt32, limit: UInt16) throws(ClientError) -> UInt64 {
        guard phase != .stopped else { throw .notRunning }
        let id = takeLocalID()
        historyRequests.append(HistoryRequest(id: id, after: after, limit: max(limit, 1)))
        return id
    }

    // MARK: Shared state queries

    var isConnecting: Bool {
        if case .connecting = phase { return true }
        return false
    }

    var isLoggedIn: Bool { phase == .syncing || phase == .live }

    /// The heartbeat: the configured interval, never above the server's (§7).
    var heartbeatIntervalMs: UInt64 {
        let advertised = UInt64(connection?.server?.heartbeatIntervalMs ?? ProtocolConstants.defaultHeartbeatIntervalMs)
        return min(configuration.heartbeatIntervalMs ?? advertised, advertised)
    }

    /// Most requests the server lets this connection have in flight.
    var requestsInFlightMax: Int {
        Int(connection?.server?.requestsInFlightMax ?? UInt16(ProtocolConstants.defaultRequestsInFlightMax))
    }

    private var oldestRequestSentAt: UInt64? {
        connection?.inFlight.values.lazy.map(\.sentAt).min()
    }

    mutating func emit(_ event: ClientEvent) { actions.append(.emit(event)) }

    mutating func append(_ action: ClientAction) { actions.append(action) }

    /// Mutable access to the persisted state for the sync and send logic.
    mutating func updateState(_ body: (inout ClientState) -> Void) {
        body(&state)
        stateDirty = true
    }

    mutating func takeLocalID() -> UInt64 {
        defer { nextLocalID += 1 }
        return nextLocalID
    }
}
