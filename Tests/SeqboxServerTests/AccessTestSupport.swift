import Foundation
import SeqboxProtocol
import SeqboxSystem
import Synchronization
import XCTest
@testable import SeqboxServer
#if canImport(Glibc)
import Glibc
#endif

/// A `FrameHandler` for access-layer tests: records every call, and runs an optional reaction to
/// each delivered frame (on the connection's loop thread).
final class AccessRecordingHandler: FrameHandler {
    enum Event: Equatable {
        case opened(ConnectionID)
        case frame(ConnectionID, DecodedFrame)
        case closed(ConnectionID, CloseReason)
    }

    typealias Reaction = @Sendable (DecodedFrame, any ConnectionHandle) -> Void

    private let state = PthreadLocked<(events: [Event], handles: [ConnectionID: any ConnectionHandle])>(([], [:]))
    private let reaction: Reaction?
    /// Calls that arrived off the connection's loop thread (must stay 0).
    let offLoopCalls = Atomic<Int>(0)
    /// The threads `connectionOpened` ran on.
    private let openThreads = PthreadLocked<Set<UInt>>([])

    init(reaction: Reaction? = nil) {
        self.reaction = reaction
    }

    func connectionOpened(_ connection: any ConnectionHandle) {
        checkOnLoop(connection)
        state.withLock {
            $0.events.append(.opened(connection.id))
            $0.handles[connection.id] = connection
        }
        openThreads.withLock { _ = $0.insert(UInt(pthread_self())) }
    }

    /// How many distinct threads opened connections (one per loop that received one).
    var openThreadCount: Int { openThreads.withLock { $0.count } }

    func handle(_ frame: DecodedFrame, from connection: any ConnectionHandle) {
        checkOnLoop(connection)
        state.withLock { $0.events.append(.frame(connection.id, frame)) }
        reaction?(frame, connection)
    }

    func connectionClosed(_ connection: any ConnectionHandle, reason: CloseReason) {
        checkOnLoop(connection)
        state.withLock { $0.events.append(.closed(connection.id, reason)) }
    }

    private func checkOnLoop(_ connection: any ConnectionHandle) {
        if !connection.isOnLoop { offLoopCalls.wrappingAdd(1, ordering: .relaxed) }
    }

    var events: [Event] { state.withLock { $0.events } }

    var openedIDs: [ConnectionID] {
        events.compactMap { if case .opened(let id) = $0 { id } else { nil } }
    }

    func frames(of id: ConnectionID? = nil) -> [DecodedFrame] {
        events.compactMap {
            guard case .frame(let owner, let frame) = $0, id == nil || owner == id else { return nil }
            return frame
        }
    }

    func closeReasons() -> [ConnectionID: CloseReason] {
        var reasons: [ConnectionID: CloseReason] = [:]
        for case .closed(let id, let reason) in events { reasons[id] = reason }
        return reasons
    }

    func handle(_ id: ConnectionID) -> (any ConnectionHandle)? { state.withLock { $0.handles[id] } }

    /// The first opened connection, waiting up to `timeoutMs` for it; nil if none opened.
    func firstOpened(timeoutMs: Int = 5_000) -> (any ConnectionHandle)? {
        guard wait(timeoutMs: timeoutMs, until: { !$0.openedIDs.isEmpty }) else { return nil }
        return handle(openedIDs[0])
    }

    /// Waits until `condition` holds (polling every few ms); false after `timeoutMs`.
    func wait(timeoutMs: Int = 5_000, until condition: (AccessRecordingHandler) -> Bool) -> Bool {
        accessWaitUntil(timeoutMs: timeoutMs) { condition(self) }
    }
}

/// Polls `condition` every 2 ms for at most `timeoutMs`.
func accessWaitUntil(timeoutMs: Int = 5_000, _ condition: () -> Bool) -> Bool {
    let deadline = MonotonicClock.nowMs() + Int64(timeoutMs)
    while MonotonicClock.nowMs() < deadline {
        if condition() { return true }
        usleep(2_000)
    }
    return condition()
}

/// A blocking test client on loopback: sends frames or raw bytes, reads frames with a timeout.
final class AccessTestClient {
    let socket: Socket
    private var decoder = FrameDecoder(receiver: .client)
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)
    /// True once the server's end of stream (or a reset) was read.
    private(set) var sawEndOfStream = false

    init(port: UInt16, receiveBufferBytes: Int? = nil) throws {
        socket = try Socket.tcp(blocking: true)
        if let receiveBufferBytes { try socket.setReceiveBufferSize(receiveBufferBytes) }
        try socket.setNoDelay(true)
        try socket.connect(to: IPv4SocketAddress(host: "127.0.0.1", port: port))
    }

    deinit { socket.close() }

    func send(_ frame: Frame, requestID: UInt32) throws {
        try socket.sendAll(FrameEncoder.encode(frame, requestID: requestID))
    }

    func sendRaw(_ bytes: [UInt8]) throws {
        try socket.sendAll(bytes)
    }

    /// Sends HELLO and expects HELLO_OK.
    @discardableResult
    func handshake(requestID: UInt32 = 1, file: StaticString = #filePath, line: UInt = #line) throws -> Frame.HelloOK? {
        try send(.hello(Frame.Hello()), requestID: requestID)
        let reply = try readFrame()
        guard case .helloOK(let helloOK)? = reply?.frame, reply?.requestID == requestID else {
            XCTFail("expected HELLO_OK, got \(String(describing: reply))", file: file, line: line)
            return nil
        }
        return helloOK
    }

    /// The next frame, or nil on end of stream or after `timeoutMs` without one.
    func readFrame(timeoutMs: Int = 5_000) throws -> DecodedFrame? {
        let deadline = MonotonicClock.nowMs() + Int64(timeoutMs)
        while true {
            if let frame = try decoder.next() { return frame }
            if sawEndOfStream { return nil }
            let remaining = deadline - MonotonicClock.nowMs()
            guard remaining > 0, waitReadable(timeoutMs: remaining) else { return nil }
            receiveOnce()
        }
    }

    /// Reads frames until end of stream, for at most `timeoutMs`; nil if the stream did not end.
    func readUntilClosed(timeoutMs: Int = 5_000) throws -> [DecodedFrame]? {
        let deadline = MonotonicClock.nowMs() + Int64(timeoutMs)
        var frames: [DecodedFrame] = []
        while true {
            while let frame = try decoder.next() { frames.append(frame) }
            if sawEndOfStream { return frames }
            let remaining = deadline - MonotonicClock.nowMs()
            guard remaining > 0, waitReadable(timeoutMs: remaining) else { return nil }
            receiveOnce()
        }
    }

    private func receiveOnce() {
        let result = buffer.withUnsafeMutableBytes { try? socket.receive(into: $0) }
        switch result {
        case .received(let count)?: decoder.append(buffer[..<count])
        case .endOfStream?, nil: sawEndOfStream = true
        case .wouldBlock?: break
        }
    }

    private func waitReadable(timeoutMs: Int64) -> Bool {
        var descriptor = pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, Int32(clamping: timeoutMs)) > 0
    }
}

/// Server settings for tests: loopback, ephemeral port, two loops, short timers.
func testAccessConfiguration(_ adjust: (inout AccessConfiguration) -> Void = { _ in }) -> AccessConfiguration {
    var configuration = AccessConfiguration()
    configuration.eventLoopCount = 2
    configuration.tickIntervalMs = 20
    configuration.idleTimeoutMs = 10_000
    configuration.handshakeTimeoutMs = 10_000
    configuration.closeFlushTimeoutMs = 1_000
    configuration.shutdownFlushTimeoutMs = 1_000
    adjust(&configuration)
    return configuration
}

extension DecodedFrame {
    /// The ERROR report, if this is an ERROR.
    var accessErrorReport: Frame.ErrorReport? {
        if case .error(let report) = frame { report } else { nil }
    }
}
