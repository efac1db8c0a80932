#if canImport(Glibc)
import Glibc
#endif
import CSeqboxShim
import SeqboxProtocol
import Synchronization

/// A Seqbox client an app embeds: it keeps one connection to the server, reconnects with
/// backoff, sends messages with retries, and delivers the user's mailbox to the app exactly
/// once, in seq order (PROTOCOL.md §7, §10, §11).
///
/// ```swift
/// let configuration = ClientConfiguration(host: "127.0.0.1", port: 7420, user: 1, device: 1, token: token)
/// let client = try MailboxClient(configuration: configuration, stateFile: "alice.state") { event in
///     if case .messages(let messages) = event {
///         for message in messages { print(message.seq, message.peer, message.text) }
///     }
/// }
/// try client.start()
/// let id = try client.send(to: 2, text: "hello")   // `.sent` with this ID follows
/// client.stop()
/// ```
///
/// Events arrive on the client's own thread, in order. For `.messages`, the client saves the
/// new held seq once the handler returns and only then acknowledges the records to the server:
/// a restarted client resumes exactly after the last batch the handler returned from. (A crash
/// inside that window — after the handler, before the save — delivers that batch again after
/// restart; each message carries its seq, so an app that stores by seq sees it once. To close
/// even that window, keep the state in the app's database through a `ClientStateStore` and
/// save it in the same transaction as the messages.)
///
/// Every method is safe to call from any thread, except that `stop()` from inside the event
/// handler does not wait for the thread to end.
public final class MailboxClient: Sendable {
    /// The configuration it was made with.
    public let configuration: ClientConfiguration
    private let core: Mutex<ClientCore>
    private let stateStore: any ClientStateStore
    /// The client made its state store (from a path) and closes it when it stops.
    private let ownsStateStore: Bool
    private let handler: @Sendable (ClientEvent) -> Void
    private let historyCallbacks = Mutex<[UInt64: @Sendable (Result<HistoryPage, HistoryError>) -> Void]>([:])
    private let thread = Mutex<ThreadState>(.notStarted)
    /// An eventfd that wakes the I/O thread when the app queues work or stops the client.
    private let wakeDescriptor: Int32

    /// A client that keeps its state in `stateStore`. Loads the state (throws if it is corrupt
    /// or belongs to another user or device); does not connect until `start()`.
    public convenience init(
        configuration: ClientConfiguration, stateStore: any ClientStateStore,
        onEvent handler: @escaping @Sendable (ClientEvent) -> Void
    ) throws(ClientError) {
        try self.init(configuration: configuration, stateStore: stateStore, ownsStateStore: false, onEvent: handler)
    }

    /// A client that keeps its state in the file `stateFile` (created if missing, locked until
    /// the client stops).
    public convenience init(
        configuration: ClientConfiguration, stateFile: String,
        onEvent handler: @escaping @Sendable (ClientEvent) -> Void
    ) throws(ClientError) {
        let store = try FileStateStore(path: stateFile)
        try self.init(configuration: configuration, stateStore: store, ownsStateStore: true, onEvent: handler)
    }

    private init(
        configuration: ClientConfiguration, stateStore: any ClientStateStore, ownsStateStore: Bool,
        onEvent handler: @escaping @Sendable (ClientEvent) -> Void
    ) throws(ClientError) {
        try configuration.validate()
        let state = try stateStore.load()
        if let state, state.user != configuration.user || state.device != configuration.device {
            throw .stateBelongsToAnotherIdentity(user: state.user, device: state.device)
        }
        let descriptor = shim_eventfd_nonblocking(0)
        guard descriptor >= 0 else { throw .system(operation: "eventfd", errno: shim_errno()) }
        self.configuration = configuration
        self.stateStore = stateStore
        self.ownsStateStore = ownsStateStore
        self.handler = handler
        core = Mutex(ClientCore(configuration: configuration, state: state))
        wakeDescriptor = descriptor
    }

    deinit {
        close(wakeDescriptor)
    }

    /// Starts the I/O thread: connect, log in, sync, and keep the connection up.
    public func start() throws(ClientError) {
        try thread.withLock { (thread: inout ThreadState) throws(ClientError) in
            guard case .notStarted = thread else { throw .alreadyStarted }
            core.withLock { $0.start(now: ClientClock.monotonicMs()) }
            thread = .running(try IOThread.start { [self] in
                var loop = ClientRunLoop(client: self)
                loop.run()
            })
        }
    }

    /// Stops for good (GOODBYE, close) and waits for the I/O thread to end; `.stopped` is the
    /// last event. Unanswered messages stay in the saved outbox for the next run.
    public func stop() {
        core.withLock { $0.stop(now: ClientClock.monotonicMs()) }
        wake()
        let running = thread.withLock { state -> IOThread? in
            defer { state = .stopped }
            if case .running(let thread) = state { return thread }
            return nil
        }
        if let running, running.isCurrent {
            running.detach()
            return
        }
        running?.join()
        if ownsStateStore { (stateStore as? FileStateStore)?.close() }
    }

    /// The I/O thread's life: joined exactly once.
    private enum ThreadState: Sendable {
        case notStarted
        case running(IOThread)
        case stopped
    }

    /// Queues a message for `recipient` and returns its client message ID. The message is
    /// saved in the outbox before it is sent and sent until the server stores it: `.sent` (or
    /// `.sendFailed` for a final refusal) with this ID follows.
    @discardableResult
    public func send(to recipient: UInt64, body: [UInt8]) throws(ClientError) -> UInt64 {
        let id = try core.withLock { (core: inout ClientCore) throws(ClientError) -> UInt64 in
            try core.enqueueSend(to: recipient, body: body)
        }
        wake()
        return id
    }

    /// Queues a text message; see `send(to:body:)`.
    @discardableResult
    public func send(to recipient: UInt64, text: String) throws(ClientError) -> UInt64 {
        try send(to: recipient, body: Array(text.utf8))
    }

    /// Refuses messages from `user` from now on; `.blockChanged` follows.
    public func block(_ user: UInt64) throws(ClientError) {
        try core.withLock { (core: inout ClientCore) throws(ClientError) in try core.enqueueBlock(user: user, blocked: true) }
        wake()
    }

    /// Accepts messages from `user` again; `.blockChanged` follows.
    public func unblock(_ user: UInt64) throws(ClientError) {
        try core.withLock { (core: inout ClientCore) throws(ClientError) in try core.enqueueBlock(user: user, blocked: false) }
        wake()
    }

    /// Registers this device's push token, so the server can wake it while it is offline
    /// (PROTOCOL.md §5.19). Sent after every login until the server answers, replacing any
    /// push request not yet answered; `.pushChanged(registered: true)` (or `.pushFailed`)
    /// follows. Kept in memory only: register again after each `start()`.
    public func registerPush(platform: PushPlatform, token: [UInt8]) throws(ClientError) {
        try core.withLock { (core: inout ClientCore) throws(ClientError) in try core.enqueuePushRegister(platform: platform, token: token) }
        wake()
    }

    /// Removes this device's push token (PROTOCOL.md §5.20), e.g. when the user logs out;
    /// `.pushChanged(registered: false)` (or `.pushFailed`) follows.
    public func unregisterPush() throws(ClientError) {
        try core.withLock { (core: inout ClientCore) throws(ClientError) in try core.enqueuePushUnregister() }
        wake()
    }

    /// Reads up to `limit` records after `after` from the server, without delivering them or
    /// moving the held seq. `completion` runs on the client's thread.
    public func history(
        after: UInt32, limit: UInt16 = UInt16(ProtocolConstants.defaultPullLimit),
        completion: @escaping @Sendable (Result<HistoryPage, HistoryError>) -> Void
    ) throws(ClientError) {
        try historyCallbacks.withLock { (callbacks: inout [UInt64: @Sendable (Result<HistoryPage, HistoryError>) -> Void]) throws(ClientError) in
            let id = try core.withLock { (core: inout ClientCore) throws(ClientError) -> UInt64 in
                try core.enqueueHistory(after: after, limit: limit)
            }
            callbacks[id] = completion
        }
        wake()
    }

    /// The highest seq delivered (and saved), with everything before it.
    public var heldSeq: UInt32 { core.withLock { $0.state.heldSeq } }

    /// The mailbox epoch the held seq belongs to (0 before the first login).
    public var epoch: UInt32 { core.withLock { $0.state.epoch } }

    /// Messages not yet known stored.
    public var outboxCount: Int { core.withLock { $0.state.outbox.count } }

    /// What the client did so far (sends, resends, pulls, connects).
    public var statistics: ClientStatistics { core.withLock { $0.statistics } }

    // MARK: For the run loop

    func withCore<T: Sendable>(_ body: (inout ClientCore) -> T) -> T { core.withLock { body(&$0) } }

    func deliver(_ event: ClientEvent) { handler(event) }

    func completeHistory(id: UInt64, _ result: Result<HistoryPage, HistoryError>) {
        let callback = historyCallbacks.withLock { $0.removeValue(forKey: id) }
        callback?(result)
    }

    func save(_ state: ClientState) throws(ClientError) { try stateStore.save(state) }

    var wakeFileDescriptor: Int32 { wakeDescriptor }

    /// Wakes the I/O thread (an eventfd write).
    func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(wakeDescriptor, $0.baseAddress, 8) }
    }
}
