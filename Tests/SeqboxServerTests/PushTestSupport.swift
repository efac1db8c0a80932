#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxFormat
import SeqboxProtocol
import SeqboxStore
import XCTest
@testable import SeqboxServer

/// A service over a real store with the real offline push (`PushRuntime`) and fake connections,
/// logging at `debug` to a file the tests read.
final class PushServiceHarness {
    let directory: String
    let store: MailboxStore
    private(set) var runtime: PushRuntime
    private(set) var service: MessagingService
    let tokens = TokenAuthority(secret: ServiceHarness.secret)
    let logPath: String
    private let logDescriptor: Int32
    let log: ServerLog
    private var nextConnectionID: UInt64 = 1
    private var nextRequestID: UInt32 = 100

    init(push options: PushOptions) throws {
        directory = NSTemporaryDirectory() + "seqbox-push-\(UUID().uuidString)"
        store = try MailboxStore.open(directory: directory, options: StoreOptions())
        logPath = directory + "-log.txt"
        logDescriptor = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        log = ServerLog(level: .debug, descriptor: logDescriptor)
        runtime = try PushRuntime.start(options: options, dataDirectory: directory, log: log)
        service = PushServiceHarness.makeService(store: store, tokens: tokens, push: runtime, log: log)
    }

    private static func makeService(store: MailboxStore, tokens: TokenAuthority, push: PushRuntime, log: ServerLog) -> MessagingService {
        var configuration = ServiceConfiguration()
        configuration.sendRate = .unlimited
        configuration.wallClockSeconds = { ServiceHarness.nowSeconds }
        return MessagingService(store: store, tokens: tokens, configuration: configuration, offlinePush: push.gateway, log: log)
    }

    /// Stops the push runtime and starts a new one over the same data (a restart of the push
    /// side), with a new service; connections made before are gone.
    func restartPush(options: PushOptions) throws {
        runtime.stop()
        runtime = try PushRuntime.start(options: options, dataDirectory: directory, log: log)
        service = PushServiceHarness.makeService(store: store, tokens: tokens, push: runtime, log: log)
    }

    func shutDown() {
        runtime.stop()
        try? store.close()
        close(logDescriptor)
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: logPath)
    }

    var statistics: PushStatistics { runtime.statistics }
    var logText: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until `condition` holds for the statistics; returns the last ones seen.
    @discardableResult
    func waitForStatistics(timeout: Double = 15, _ condition: (PushStatistics) -> Bool) -> PushStatistics {
        let deadline = Date().addingTimeInterval(timeout)
        var last = statistics
        while Date() < deadline {
            last = statistics
            if condition(last) { return last }
            usleep(5_000)
        }
        return last
    }

    func connect() -> FakeConnection {
        let connection = FakeConnection(id: nextConnectionID)
        nextConnectionID += 1
        connection.loop.sync { service.connectionOpened(connection) }
        return connection
    }

    func disconnect(_ connection: FakeConnection) {
        connection.loop.sync { service.connectionClosed(connection, reason: .peerClosed) }
    }

    /// Delivers `frame` and waits for its reply.
    func request(_ frame: Frame, on connection: FakeConnection, timeout: Double = 10) -> Frame? {
        nextRequestID += 1
        let id = nextRequestID
        connection.loop.sync { service.handle(DecodedFrame(requestID: id, frame: frame), from: connection) }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let found = connection.frames.first(where: { $0.requestID == id }) { return found.frame }
            usleep(1_000)
        }
        return nil
    }

    func logIn(user: UInt64, device: UInt64 = 1) -> FakeConnection {
        let connection = connect()
        let token = tokens.mint(user: user, device: device, expiresAtSeconds: ServiceHarness.nowSeconds + 3600).bytes
        let reply = request(.login(Frame.Login(user: user, device: device, fullHistory: false, token: token)), on: connection)
        XCTAssertNotNil({ if case .loginOK? = reply { true } else { nil } }(), "LOGIN answered \(String(describing: reply))")
        return connection
    }

    /// Logs `user`'s `device` in, registers `token` and disconnects: the user is offline with a
    /// device to push to.
    func registerOffline(user: UInt64, device: UInt64 = 1, platform: PushPlatform = .apns, token: [UInt8]) {
        let connection = logIn(user: user, device: device)
        XCTAssertEqual(request(.pushRegister(Frame.PushRegister(platform: platform, token: token)), on: connection),
                       .pushOK(Frame.PushOK(registered: true)))
        disconnect(connection)
    }

    /// Sends `text` from `connection` to `recipient`; returns the recipient's seq.
    @discardableResult
    func send(_ text: String, to recipient: UInt64, id: UInt64, on connection: FakeConnection) -> UInt32? {
        let reply = request(.send(Frame.Send(to: recipient, clientMessageID: id, body: Array(text.utf8))), on: connection)
        guard case .sendOK(let ok)? = reply else {
            XCTFail("SEND answered \(String(describing: reply))")
            return nil
        }
        return ok.seq
    }
}

extension PushOptions {
    /// Options for tests: the receiver's URL, short timeouts and backoffs.
    static func testing(webhook: String?, timeoutMs: Int = 2_000, retriesMax: Int = 3, queueMax: Int = 1_000,
                        concurrency: Int = 4, previewBytes: Int = 0) -> PushOptions {
        var options = PushOptions()
        options.webhook = webhook
        options.timeoutMs = timeoutMs
        options.retriesMax = retriesMax
        options.backoffMs = 20
        options.backoffMaxMs = 100
        options.queueMax = queueMax
        options.concurrency = concurrency
        options.previewBytes = previewBytes
        return options
    }
}

/// An APNs-like 32-byte token derived from `seed`.
func apnsToken(_ seed: UInt8) -> [UInt8] {
    (0 ..< 32).map { UInt8(truncatingIfNeeded: Int($0) &* 7 &+ Int(seed)) }
}
