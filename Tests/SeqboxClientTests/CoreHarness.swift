@testable import SeqboxClient
import SeqboxProtocol
import XCTest

/// Drives a `ClientCore` by hand: a fake clock, the frames it writes, the events it emits, and
/// shortcuts that play the server's side.
struct CoreHarness {
    var core: ClientCore
    var now: UInt64 = 1_000
    var events: [ClientEvent] = []
    var writes: [DecodedFrame] = []
    var connects = 0
    var closes = 0
    var historyResults: [UInt64: Result<HistoryPage, HistoryError>] = [:]

    static let user: UInt64 = 1001
    static let device: UInt64 = 7

    static func configuration() -> ClientConfiguration {
        var configuration = ClientConfiguration(host: "127.0.0.1", port: 1, user: user, device: device, token: [1, 2, 3])
        configuration.replyTimeoutMs = 1_000
        configuration.connectTimeoutMs = 1_000
        configuration.reconnectBackoffInitialMs = 100
        configuration.reconnectBackoffMaxMs = 1_600
        configuration.randomSeed = 42
        return configuration
    }

    init(configuration: ClientConfiguration = CoreHarness.configuration(), state: ClientState? = nil) {
        core = ClientCore(configuration: configuration, state: state)
    }

    /// A state holding `held` in `epoch`, with `outbox`.
    static func state(held: UInt32, epoch: UInt32 = 1, outbox: [OutboxEntry] = []) -> ClientState {
        var state = ClientState(user: user, device: device, firstClientMessageID: 500)
        state.heldSeq = held
        state.epoch = epoch
        state.outbox = outbox
        return state
    }

    mutating func drain() {
        for action in core.takeActions() {
            switch action {
            case .connect: connects += 1
            case .close: closes += 1
            case .write(let frame, let requestID): writes.append(DecodedFrame(requestID: requestID, frame: frame))
            case .emit(let event): events.append(event)
            case .historyResult(let id, let result): historyResults[id] = result
            }
        }
    }

    mutating func tick() {
        core.tick(now: now)
        drain()
    }

    mutating func advance(_ milliseconds: UInt64) {
        now += milliseconds
        tick()
    }

    /// Starts and opens the TCP connection (HELLO and LOGIN are then written).
    mutating func connect() {
        if core.phase == .idle { core.start(now: now) } else { advanceToReconnect() }
        drain()
        core.connected(now: now)
        drain()
    }

    /// Advances the clock to the pending reconnect.
    mutating func advanceToReconnect() {
        guard case .waiting(let until) = core.phase else { return XCTFail("not waiting to reconnect: \(core.phase)") }
        if until > now { now = until }
        tick()
    }

    /// Connects and answers HELLO and LOGIN.
    mutating func logIn(newest: UInt32, confirmed: UInt32 = 0, cursor: UInt32 = 0, first: UInt32 = 1, epoch: UInt32 = 1,
                        hello: Frame.HelloOK = Frame.HelloOK()) {
        connect()
        reply(to: .hello, with: .helloOK(hello))
        reply(to: .login, with: .loginOK(Frame.LoginOK(newestSeq: newest, confirmedSeq: confirmed, deviceCursor: cursor,
                                                        firstSeq: first, epoch: epoch)))
    }

    /// The most recent written frame of `type` not yet answered.
    func lastRequest(_ type: FrameType) -> DecodedFrame? {
        writes.last { $0.frame.type == type }
    }

    /// Requests of `type` written so far.
    func requests(_ type: FrameType) -> [DecodedFrame] { writes.filter { $0.frame.type == type } }

    /// Answers the last request of `type` with `frame`.
    mutating func reply(to type: FrameType, with frame: Frame, file: StaticString = #filePath, line: UInt = #line) {
        guard let request = lastRequest(type) else { return XCTFail("no \(type) written", file: file, line: line) }
        reply(requestID: request.requestID, with: frame)
    }

    mutating func reply(requestID: UInt32, with frame: Frame) {
        core.received(DecodedFrame(requestID: requestID, frame: frame), now: now)
        drain()
        tick()
    }

    mutating func push(_ frame: Frame) {
        core.received(DecodedFrame(requestID: 0, frame: frame), now: now)
        drain()
        tick()
    }

    /// The last PULL's `after`.
    var lastPullAfter: UInt32? {
        if case .pull(let pull)? = lastRequest(.pull)?.frame { return pull.after }
        return nil
    }

    /// Delivered messages' seqs, in delivery order.
    var deliveredSeqs: [UInt32] {
        events.flatMap { event -> [UInt32] in
            if case .messages(let messages) = event { return messages.map(\.seq) }
            return []
        }
    }

    var receipts: [SendReceipt] {
        events.compactMap { if case .sent(let receipt) = $0 { return receipt } else { return nil } }
    }

    var sentFrames: [Frame.Send] {
        writes.compactMap { if case .send(let send) = $0.frame { return send } else { return nil } }
    }

    var disconnects: [DisconnectReason] {
        events.compactMap { if case .disconnected(let reason, _) = $0 { return reason } else { return nil } }
    }

    /// Records `seqs` from user 2, device 3.
    static func incoming(_ seqs: ClosedRange<UInt32>) -> [PullRecord] {
        seqs.map { PullRecord(seq: $0, peer: 2, senderDevice: 3, clientMessageID: UInt64($0) + 9_000, timestampMs: 1, body: Array("m\($0)".utf8)) }
    }

    /// Answers the last PULL with `records`.
    mutating func answerPull(_ records: [PullRecord], newest: UInt32, hasMore: Bool = false, epoch: UInt32 = 1) {
        reply(to: .pull, with: .pullOK(Frame.PullOK(newestSeq: newest, epoch: epoch, hasMore: hasMore, records: records)))
    }
}
