import Dispatch
import Foundation
import SeqboxFormat
import SeqboxProtocol
import SeqboxStore
import Synchronization
import XCTest
@testable import SeqboxServer

/// A `ConnectionHandle` without a socket: frames the service sends are recorded, and a serial
/// queue plays the connection's event loop (the service's frames are handled on it, and
/// `execute` runs there), so thread affinity is as in the server.
final class FakeConnection: ConnectionHandle, @unchecked Sendable {
    let id: ConnectionID
    let loop: DispatchQueue
    private let key = DispatchSpecificKey<UInt64>()
    private let state = PthreadLocked<(frames: [DecodedFrame], closed: CloseReason?)>(([], nil))

    init(id: UInt64) {
        self.id = ConnectionID(rawValue: id)
        self.loop = DispatchQueue(label: "fake-loop-\(id)")
        loop.setSpecific(key: key, value: id)
    }

    var isOnLoop: Bool { DispatchQueue.getSpecific(key: key) == id.rawValue }

    @discardableResult
    func send(_ frame: Frame, requestID: UInt32) -> Bool {
        state.withLock { state in
            guard state.closed == nil else { return false }
            state.frames.append(DecodedFrame(requestID: requestID, frame: frame))
            return true
        }
    }

    @discardableResult
    func send(_ frames: [(frame: Frame, requestID: UInt32)]) -> Bool {
        frames.allSatisfy { send($0.frame, requestID: $0.requestID) }
    }

    func close(reason: CloseReason) {
        state.withLock { if $0.closed == nil { $0.closed = reason } }
    }

    func execute(_ body: @escaping @Sendable () -> Void) {
        if isOnLoop { body() } else { loop.async(execute: body) }
    }

    var frames: [DecodedFrame] { state.withLock { $0.frames } }
    var closeReason: CloseReason? { state.withLock { $0.closed } }

    /// Removes and returns the frames received so far.
    @discardableResult
    func drain() -> [DecodedFrame] {
        state.withLock { state in
            defer { state.frames.removeAll() }
            return state.frames
        }
    }
}

/// A service over a real store in a temporary directory, with fake connections.
final class ServiceHarness {
    static let secret = Array("service-test-secret-32-bytes!!!!".utf8)
    static let nowSeconds: UInt64 = 1_800_000_000

    let directory: String
    let store: MailboxStore
    let service: MessagingService
    let tokens = TokenAuthority(secret: ServiceHarness.secret)
    let offline = RecordingOfflinePush()
    private var nextConnectionID: UInt64 = 1
    private var nextRequestID: UInt32 = 100

    init(configure: (inout ServiceConfiguration) -> Void = { _ in }, contentFilter: any ContentFilter = AcceptAllContentFilter(),
         storeOptions: StoreOptions = StoreOptions()) throws {
        directory = NSTemporaryDirectory() + "seqbox-service-\(UUID().uuidString)"
        store = try MailboxStore.open(directory: directory, options: storeOptions)
        var configuration = ServiceConfiguration()
        configuration.sendRate = .unlimited
        configuration.wallClockSeconds = { ServiceHarness.nowSeconds }
        configure(&configuration)
        service = MessagingService(store: store, tokens: tokens, configuration: configuration, contentFilter: contentFilter,
                                   offlinePush: offline)
    }

    func shutDown() {
        try? store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A new connection that completed HELLO.
    func connect() -> FakeConnection {
        let connection = FakeConnection(id: nextConnectionID)
        nextConnectionID += 1
        connection.loop.sync { service.connectionOpened(connection) }
        return connection
    }

    func token(user: UInt64, device: UInt64, expiresAtSeconds: UInt64 = ServiceHarness.nowSeconds + 3600) -> [UInt8] {
        tokens.mint(user: user, device: device, expiresAtSeconds: expiresAtSeconds).bytes
    }

    /// Delivers `frame` on the connection's loop; returns the request ID used.
    @discardableResult
    func deliver(_ frame: Frame, on connection: FakeConnection, requestID: UInt32? = nil) -> UInt32 {
        let id = requestID ?? { nextRequestID += 1; return nextRequestID }()
        connection.loop.sync { service.handle(DecodedFrame(requestID: id, frame: frame), from: connection) }
        return id
    }

    /// The reply to `requestID`, waiting up to `timeout` seconds (removes it from the record).
    func reply(to requestID: UInt32, on connection: FakeConnection, timeout: Double = 5) -> Frame? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let found = connection.frames.first(where: { $0.requestID == requestID }) { return found.frame }
            usleep(1_000)
        }
        return nil
    }

    /// Delivers `frame` and waits for its reply.
    func request(_ frame: Frame, on connection: FakeConnection) -> Frame? {
        reply(to: deliver(frame, on: connection), on: connection)
    }

    /// A connection logged in as `user` on `device`, with its LOGIN_OK.
    func logIn(user: UInt64, device: UInt64, fullHistory: Bool = false) -> (FakeConnection, Frame.LoginOK?) {
        let connection = connect()
        let reply = request(.login(Frame.Login(user: user, device: device, fullHistory: fullHistory, token: token(user: user, device: device))), on: connection)
        guard case .loginOK(let ok)? = reply else { return (connection, nil) }
        connection.drain()
        return (connection, ok)
    }

    func send(_ text: String, to: UInt64, id: UInt64, on connection: FakeConnection) -> Frame? {
        request(.send(Frame.Send(to: to, clientMessageID: id, body: Array(text.utf8))), on: connection)
    }

    /// Waits until the connection has received a NOTIFY with at least `seq`.
    func waitForNotify(atLeast seq: UInt32, on connection: FakeConnection, timeout: Double = 5) -> Frame.Notify? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            for frame in connection.frames {
                if case .notify(let notify) = frame.frame, notify.newestSeq >= seq { return notify }
            }
            usleep(1_000)
        }
        return nil
    }

    func notifies(on connection: FakeConnection) -> [Frame.Notify] {
        connection.frames.compactMap { if case .notify(let notify) = $0.frame { notify } else { nil } }
    }
}

/// Records the tips the offline push gateway was handed; accepts every registration.
final class RecordingOfflinePush: OfflinePushGateway {
    private let tips = PthreadLocked<[(user: UserID, seq: Seq, preview: [UInt8]?)]>([])
    let previewBytesMax: Int

    init(previewBytesMax: Int = 0) { self.previewBytesMax = previewBytesMax }

    func mailboxGrew(user: UserID, newestSeq: Seq, epoch: UInt32, sender: UserID, preview: [UInt8]?) {
        tips.withLock { $0.append((user, newestSeq, preview)) }
    }
    func userConnected(user: UserID, device: DeviceID) {}
    func register(user: UserID, device: DeviceID, platform: PushPlatform, token: [UInt8],
                  completion: @escaping @Sendable (Result<Void, Frame.ErrorReport>) -> Void) {
        completion(.success(()))
    }
    func unregister(user: UserID, device: DeviceID, completion: @escaping @Sendable (Result<Void, Frame.ErrorReport>) -> Void) {
        completion(.success(()))
    }
    var recorded: [(user: UserID, seq: Seq)] { tips.withLock { $0.map { ($0.user, $0.seq) } } }
    var previews: [[UInt8]?] { tips.withLock { $0.map(\.preview) } }
}

/// The error code of `frame`, if it is an ERROR.
func errorCode(_ frame: Frame?) -> ErrorCode? {
    if case .error(let report)? = frame { report.code } else { nil }
}
