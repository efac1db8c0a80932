#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxFormat
import SeqboxProtocol
import SeqboxStore
import Synchronization
import XCTest
@testable import SeqboxServer

/// The gateway's `StorageNodeClient` against storage nodes in this process (an `AccessServer`
/// with a `StorageNodeHandler`, or a node that never answers): batching, timeouts, fast failure
/// while a node is down, reconnecting, bounds.
final class ClusterStorageClientTests: XCTestCase {
    static let tokens = TokenAuthority(secret: Array("storage-client-test-secret-32-b!".utf8))

    var directory: String!
    var store: MailboxStore?
    var servers: [AccessServer] = []
    var clients: [StorageNodeClient] = []

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "seqbox-storage-client-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        for client in clients { client.stop() }
        for server in servers { server.stop() }
        try? store?.close()
        try? FileManager.default.removeItem(atPath: directory)
        clients = []
        servers = []
        store = nil
    }

    func accessConfiguration(port: UInt16 = 0, requestsInFlightMax: Int = 4_096) -> AccessConfiguration {
        var access = AccessConfiguration()
        access.port = port
        access.eventLoopCount = 1
        access.frameLimits = .protocolMaximum
        access.requestsInFlightMax = requestsInFlightMax
        access.outputBufferBytesMax = 64 << 20
        access.tickIntervalMs = 20
        return access
    }

    /// A real storage node in this process, on `port` (0: any).
    func startNode(port: UInt16 = 0) throws -> AccessServer {
        var options = StoreOptions()
        options.durability = .none
        let opened = try store ?? MailboxStore.open(directory: directory + "/store", options: options)
        store = opened
        let server = AccessServer(configuration: accessConfiguration(port: port), handler: StorageNodeHandler(store: opened, tokens: Self.tokens))
        try server.start()
        servers.append(server)
        return server
    }

    func startClient(port: UInt16, _ adjust: (inout StorageClientConfiguration) -> Void = { _ in }) throws -> StorageNodeClient {
        var configuration = StorageClientConfiguration()
        configuration.reconnectBackoffInitialMs = 20
        configuration.reconnectBackoffMaxMs = 200
        adjust(&configuration)
        let client = try StorageNodeClient(endpoint: StorageEndpoint(host: "127.0.0.1", port: port), nodeIndex: 0,
                                           configuration: configuration, tokens: Self.tokens)
        try client.start()
        clients.append(client)
        return client
    }

    func group(user: UInt64, id: UInt64) -> StoreAppendGroup {
        StoreAppendGroup(refuseIfBlocked: true, messages: [StoreMessage(user: user, sender: 9, device: 1, clientMessageID: id, timestampMs: 1, outgoing: false, body: Array("m\(id)".utf8))])
    }

    /// Calls `body` with a completion and waits (bounded) for its result.
    func wait<T: Sendable>(timeout: Double = 10, _ body: (@escaping @Sendable (T) -> Void) -> Void) throws -> T {
        let result = PthreadLocked<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        body { value in
            result.withLock { $0 = value }
            done.signal()
        }
        guard done.wait(timeout: .now() + timeout) == .success else { throw ProtocolTestClientError.timeout("a storage completion") }
        return result.withLock { $0! }
    }

    func testQueuedAppendsArePackedIntoFewStoreAppendFramesAndAllStored() throws {
        let node = try startNode()
        let client = try startClient(port: node.boundPort)
        XCTAssertEqual(try wait { done in client.request(.storeStats(Frame.StoreStats())) { done($0) } }.map(\.type), .success(.storeStatsOK))
        let framesBefore = client.statistics.framesSent
        let count = 2_000
        let results = PthreadLocked<[UInt64: Result<[StoreCopy], Frame.ErrorReport>]>([:])
        let done = DispatchSemaphore(value: 0)
        for id in 1 ... UInt64(count) {
            client.append(group(user: 100 + id % 4, id: id)) { result in
                let finished = results.withLock { $0[id] = result; return $0.count == count }
                if finished { done.signal() }
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        let answered = results.withLock { $0 }
        XCTAssertEqual(answered.count, count)
        XCTAssertTrue(answered.values.allSatisfy { (try? $0.get())?.count == 1 }, "every group stored")
        let frames = client.statistics.framesSent - framesBefore
        XCTAssertLessThanOrEqual(frames, count / 20, "\(frames) frames for \(count) groups")
        XCTAssertEqual(client.statistics.appendGroupsSent, count)
        for user in UInt64(100) ..< 104 {
            let seqs = answered.filter { $0.key % 4 == user - 100 }.compactMap { try? $0.value.get().first?.seq }.sorted()
            XCTAssertEqual(seqs, Array(1 ... UInt32(count / 4)), "user \(user)")
        }
    }

    func testRequestsToANodeThatIsDownFailFastAndServiceResumesWhenItComesBack() throws {
        // A port with nothing listening (bound once, then released).
        let probe = try startNode()
        let port = probe.boundPort
        probe.stop()
        let client = try startClient(port: port)
        let downDeadline = Date().addingTimeInterval(5)
        while !client.isDown && Date() < downDeadline { usleep(5_000) }
        XCTAssertTrue(client.isDown)
        let started = Date()
        let refused = try wait { done in client.append(group(user: 1, id: 1)) { done($0) } }
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.2, "not fast")
        guard case .failure(let report) = refused else { return XCTFail("stored while down: \(refused)") }
        XCTAssertEqual(report.code, .unavailable)
        XCTAssertGreaterThan(report.retryAfterMs, 0)

        _ = try startNode(port: port)
        let upDeadline = Date().addingTimeInterval(5)
        while client.isDown && Date() < upDeadline { usleep(5_000) }
        XCTAssertFalse(client.isDown, "no reconnect")
        let stored = try wait { done in client.append(group(user: 1, id: 1)) { done($0) } }
        XCTAssertEqual((try? stored.get())?.map(\.seq), [1])
        XCTAssertGreaterThanOrEqual(client.statistics.handshakes, 1)
    }

    func testAnUnansweredRequestTimesOutAsUnavailableAndTheSilentConnectionIsReplaced() throws {
        let silent = AccessServer(configuration: accessConfiguration(), handler: SilentNodeHandler(tokens: Self.tokens))
        try silent.start()
        servers.append(silent)
        let client = try startClient(port: silent.boundPort) { $0.requestTimeoutMs = 300 }
        let started = Date()
        let result = try wait { done in client.request(.storeNewest(Frame.StoreNewest(user: 5))) { done($0) } }
        let elapsed = Date().timeIntervalSince(started)
        guard case .failure(let report) = result else { return XCTFail("answered: \(result)") }
        XCTAssertEqual(report.code, .unavailable)
        XCTAssertGreaterThanOrEqual(elapsed, 0.25)
        XCTAssertLessThan(elapsed, 2)
        XCTAssertEqual(client.statistics.timedOut, 1)
        // Nothing came back for a whole timeout: the connection is dropped and made again.
        let deadline = Date().addingTimeInterval(5)
        while client.statistics.handshakes < 2 && Date() < deadline { usleep(10_000) }
        XCTAssertGreaterThanOrEqual(client.statistics.handshakes, 2)
    }

    func testRequestsBeyondTheNodesInFlightLimitWaitAndBeyondTheQueueBoundAreOverloaded() throws {
        let silent = AccessServer(configuration: accessConfiguration(requestsInFlightMax: 2), handler: SilentNodeHandler(tokens: Self.tokens))
        try silent.start()
        servers.append(silent)
        let client = try startClient(port: silent.boundPort) {
            $0.queuedRequestsMax = 5
            $0.requestTimeoutMs = 60_000
        }
        let connected = try wait { done in client.request(.storeStats(Frame.StoreStats())) { done($0) } }
        XCTAssertEqual(connected.map(\.type), .success(.storeStatsOK), "the silent node answers STORE_STATS only")
        let outcomes = PthreadLocked<[ErrorCode]>([])
        for id in 1 ... 10 {
            client.request(.storeNewest(Frame.StoreNewest(user: UInt64(id)))) { result in
                if case .failure(let report) = result { outcomes.withLock { $0.append(report.code) } }
            }
            usleep(20_000)
        }
        // 2 in flight (the node's limit), 5 queued, the other 3 refused at once.
        XCTAssertEqual(outcomes.withLock { $0 }, [.overloaded, .overloaded, .overloaded])
        XCTAssertEqual(client.statistics.overloaded, 3)
        client.stop()
        XCTAssertEqual(outcomes.withLock { $0.filter { $0 == .unavailable }.count }, 7, "stopping answers everything")
    }

    func testQueuedAppendsBeyondTheByteBoundAreOverloaded() throws {
        let silent = AccessServer(configuration: accessConfiguration(requestsInFlightMax: 1), handler: SilentNodeHandler(tokens: Self.tokens))
        try silent.start()
        servers.append(silent)
        let client = try startClient(port: silent.boundPort) {
            $0.queuedBytesMax = 100_000
            $0.requestTimeoutMs = 60_000
        }
        let connected = try wait { done in client.request(.storeStats(Frame.StoreStats())) { done($0) } }
        XCTAssertEqual(connected.map(\.type), .success(.storeStatsOK), "the silent node answers STORE_STATS only")
        // Occupy the node's single in-flight slot, so every later request stays queued.
        client.request(.storeNewest(Frame.StoreNewest(user: 1))) { _ in }
        usleep(50_000)
        let outcomes = PthreadLocked<[ErrorCode]>([])
        for id in 1 ... 5 {
            let message = StoreMessage(user: UInt64(10 + id), sender: 2, device: 1, clientMessageID: UInt64(id), timestampMs: 1,
                                       outgoing: false, body: [UInt8](repeating: 0x61, count: 40_000))
            client.append(StoreAppendGroup(refuseIfBlocked: false, messages: [message])) { result in
                if case .failure(let report) = result { outcomes.withLock { $0.append(report.code) } }
            }
        }
        // 40 kB each against a 100 kB bound: two wait, the other three are refused at once.
        XCTAssertEqual(outcomes.withLock { $0 }, [.overloaded, .overloaded, .overloaded])
        XCTAssertEqual(client.pendingBytes.load(ordering: .relaxed), 80_000, "the refused bodies are not counted")
        client.stop()
        XCTAssertEqual(client.pendingBytes.load(ordering: .relaxed), 0, "stopping releases every queued body")
    }
}

/// A storage node that completes the handshake and answers STORE_STATS, and never answers
/// anything else (a hung node).
final class SilentNodeHandler: FrameHandler, Sendable {
    let tokens: TokenAuthority
    init(tokens: TokenAuthority) { self.tokens = tokens }

    func connectionOpened(_ connection: any ConnectionHandle) {}
    func connectionClosed(_ connection: any ConnectionHandle, reason: CloseReason) {}

    func handle(_ frame: DecodedFrame, from connection: any ConnectionHandle) {
        switch frame.frame {
        case .login:
            connection.send(.loginOK(Frame.LoginOK(newestSeq: 0, confirmedSeq: 0, deviceCursor: 0, firstSeq: 0, epoch: 0)), requestID: frame.requestID)
        case .storeStats:
            connection.send(.storeStatsOK(Frame.StoreStatsOK(values: [])), requestID: frame.requestID)
        default:
            break
        }
    }
}
