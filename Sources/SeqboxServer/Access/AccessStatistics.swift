import Synchronization

/// Counters of the access layer at one moment: what `AccessServer.statistics` returns, for logs
/// and metrics. Totals count since `start()`.
public struct AccessStatistics: Hashable, Sendable, CustomStringConvertible {
    /// Connections held now: handshaking, open or closing.
    public var connectionsHeld = 0
    /// Connections accepted (including those then refused).
    public var acceptedTotal = 0
    /// Connections refused at accept: over `connectionsMax`, or no room in a loop's inbox.
    public var refusedTotal = 0
    /// Connections that completed HELLO.
    public var openedTotal = 0
    /// Closes by reason (`CloseReason` without its detail).
    public var closedByPeerTotal = 0
    public var closedIdleTotal = 0
    public var closedSlowConsumerTotal = 0
    public var closedProtocolErrorTotal = 0
    public var closedByServerTotal = 0
    public var closedShutdownTotal = 0
    public var closedIOErrorTotal = 0
    /// Cross-thread sends, closes or closures refused because a loop's inbox was full.
    public var inboxFullTotal = 0
    /// Times the listener stopped accepting until the next tick (out of descriptors or memory).
    public var acceptPausesTotal = 0

    public init() {}

    public var description: String {
        "held \(connectionsHeld), accepted \(acceptedTotal), refused \(refusedTotal), opened \(openedTotal), "
            + "closed: peer \(closedByPeerTotal), idle \(closedIdleTotal), slow \(closedSlowConsumerTotal), "
            + "protocol \(closedProtocolErrorTotal), server \(closedByServerTotal), shutdown \(closedShutdownTotal), "
            + "io \(closedIOErrorTotal); inbox full \(inboxFullTotal), accept pauses \(acceptPausesTotal)"
    }
}

/// The live counters behind `AccessStatistics`, shared by the listener and every loop, plus the
/// connection-slot count that enforces `connectionsMax` across loops.
final class AccessCounters: Sendable {
    let connectionsMax: Int
    private let held = Atomic<Int>(0)
    private let accepted = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)
    private let opened = Atomic<Int>(0)
    private let closedByPeer = Atomic<Int>(0)
    private let closedIdle = Atomic<Int>(0)
    private let closedSlowConsumer = Atomic<Int>(0)
    private let closedProtocolError = Atomic<Int>(0)
    private let closedByServer = Atomic<Int>(0)
    private let closedShutdown = Atomic<Int>(0)
    private let closedIOError = Atomic<Int>(0)
    private let inboxFull = Atomic<Int>(0)
    private let acceptPauses = Atomic<Int>(0)
    private let lastConnectionID = Atomic<UInt64>(0)

    init(connectionsMax: Int) {
        self.connectionsMax = connectionsMax
    }

    /// Takes a connection slot; false (and nothing taken) when `connectionsMax` are held.
    func reserveSlot() -> Bool {
        let now = held.wrappingAdd(1, ordering: .relaxed).newValue
        if now <= connectionsMax { return true }
        held.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    /// Gives a slot back (the connection's socket is closed).
    func releaseSlot() {
        let now = held.wrappingSubtract(1, ordering: .relaxed).newValue
        precondition(now >= 0, "connection slot released twice")
    }

    /// A new connection ID, unique for the life of the process.
    func nextConnectionID() -> ConnectionID {
        ConnectionID(rawValue: lastConnectionID.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    func countAccepted() { accepted.wrappingAdd(1, ordering: .relaxed) }
    func countRefused() { refused.wrappingAdd(1, ordering: .relaxed) }
    func countOpened() { opened.wrappingAdd(1, ordering: .relaxed) }
    func countInboxFull() { inboxFull.wrappingAdd(1, ordering: .relaxed) }
    func countAcceptPause() { acceptPauses.wrappingAdd(1, ordering: .relaxed) }

    func countClosed(_ reason: CloseReason) {
        switch reason {
        case .peerClosed: closedByPeer.wrappingAdd(1, ordering: .relaxed)
        case .idleTimeout: closedIdle.wrappingAdd(1, ordering: .relaxed)
        case .slowConsumer: closedSlowConsumer.wrappingAdd(1, ordering: .relaxed)
        case .protocolError: closedProtocolError.wrappingAdd(1, ordering: .relaxed)
        case .closedByServer: closedByServer.wrappingAdd(1, ordering: .relaxed)
        case .serverShutdown: closedShutdown.wrappingAdd(1, ordering: .relaxed)
        case .ioError: closedIOError.wrappingAdd(1, ordering: .relaxed)
        }
    }

    func snapshot() -> AccessStatistics {
        var result = AccessStatistics()
        result.connectionsHeld = held.load(ordering: .relaxed)
        result.acceptedTotal = accepted.load(ordering: .relaxed)
        result.refusedTotal = refused.load(ordering: .relaxed)
        result.openedTotal = opened.load(ordering: .relaxed)
        result.closedByPeerTotal = closedByPeer.load(ordering: .relaxed)
        result.closedIdleTotal = closedIdle.load(ordering: .relaxed)
        result.closedSlowConsumerTotal = closedSlowConsumer.load(ordering: .relaxed)
        result.closedProtocolErrorTotal = closedProtocolError.load(ordering: .relaxed)
        result.closedByServerTotal = closedByServer.load(ordering: .relaxed)
        result.closedShutdownTotal = closedShutdown.load(ordering: .relaxed)
        result.closedIOErrorTotal = closedIOError.load(ordering: .relaxed)
        result.inboxFullTotal = inboxFull.load(ordering: .relaxed)
        result.acceptPausesTotal = acceptPauses.load(ordering: .relaxed)
        return result
    }
}
