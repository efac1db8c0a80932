import Foundation
import SeqboxProtocol
import Synchronization
import XCTest

/// A small Seqbox server in the test process, on loopback: in-memory mailboxes, idempotent
/// SEND, PULL, ACK, NOTIFY, PING; any token logs in. Knobs let tests lose replies and go
/// silent, to exercise the client's retries without the real server.
final class FakeServer: @unchecked Sendable {
    struct Mailbox {
        var records: [PullRecord] = []
        var cursors: [UInt64: UInt32] = [:]
    }

    struct Storage {
        var mailboxes: [UInt64: Mailbox] = [:]
        /// (sender, device, clientMessageID) → (seq, outgoingSeq)
        var stored: [[UInt64]: (UInt32, UInt32)] = [:]
        var sendFrames = 0
        /// After storing this many more SENDs, close the connection instead of answering.
        var dropAfterStoring: Int?
        /// Connections opened from now on read frames but never answer.
        var silent = false
        var connections: [ObjectIdentifier: Connection] = [:]
        var loginCount = 0
    }

    final class Connection: @unchecked Sendable {
        let descriptor: Int32
        var user: UInt64 = 0
        var device: UInt64 = 0
        let writeLock = Mutex(())
        init(descriptor: Int32) { self.descriptor = descriptor }

        func send(_ frame: Frame, requestID: UInt32) {
            let bytes = FrameEncoder.encode(frame, requestID: requestID)
            writeLock.withLock { _ in
                var offset = 0
                while offset < bytes.count {
                    let count = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                    if count <= 0 { return }
                    offset += count
                }
            }
        }
    }

    let port: UInt16
    let storage = Mutex(Storage())
    private let listener: Int32
    private let running = Atomic<Bool>(true)
    private let threads = Mutex<[pthread_t]>([])

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else {
            close(descriptor)
            throw FakeServerError()
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        listener = descriptor
        port = UInt16(bigEndian: address.sin_port)
        spawn { [self] in acceptLoop() }
    }

    struct FakeServerError: Error {}

    /// Stops accepting, closes every connection and waits for the threads.
    func stop() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        storage.withLock { $0.connections.values.forEach { shutdown($0.descriptor, Int32(SHUT_RDWR)) } }
        for thread in threads.withLock({ $0 }) { pthread_join(thread, nil) }
        close(listener)
    }

    /// Drops every open connection (as a crash of the path would).
    func dropConnections() {
        storage.withLock { $0.connections.values.forEach { shutdown($0.descriptor, Int32(SHUT_RDWR)) } }
    }

    /// Stores a message from `sender` to `recipient` directly, as another client would.
    func inject(from sender: UInt64, to recipient: UInt64, text: String) {
        storage.withLock { storage in
            _ = store(&storage, sender: sender, device: 99, to: recipient, id: UInt64(storage.sendFrames + 1_000_000), body: Array(text.utf8))
            storage.sendFrames += 1
        }
        notify(recipient)
    }

    func records(of user: UInt64) -> [PullRecord] { storage.withLock { $0.mailboxes[user]?.records ?? [] } }

    // MARK: Serving

    private func spawn(_ body: @escaping @Sendable () -> Void) {
        final class Box { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        pthread_create(&thread, nil, { Unmanaged<Box>.fromOpaque($0!).takeRetainedValue().body(); return nil }, box)
        threads.withLock { $0.append(thread) }
    }

    private func acceptLoop() {
        while running.load(ordering: .relaxed) {
            let descriptor = accept(listener, nil, nil)
            guard descriptor >= 0 else { continue }
            var one: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let connection = Connection(descriptor: descriptor)
            storage.withLock { $0.connections[ObjectIdentifier(connection)] = connection }
            spawn { [self] in serve(connection) }
        }
    }

    private func serve(_ connection: Connection) {
        defer {
            storage.withLock { _ = $0.connections.removeValue(forKey: ObjectIdentifier(connection)) }
            close(connection.descriptor)
        }
        let silent = storage.withLock { $0.silent }
        var decoder = FrameDecoder(receiver: .server)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while running.load(ordering: .relaxed) {
            let count = buffer.withUnsafeMutableBytes { recv(connection.descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            decoder.append(buffer[0 ..< count])
            while let frame = try? decoder.next() {
                if silent { continue }
                guard handle(frame, on: connection) else {
                    shutdown(connection.descriptor, Int32(SHUT_RDWR))
                    return
                }
            }
        }
    }

    /// Answers one frame; false to drop the connection.
    private func handle(_ decoded: DecodedFrame, on connection: Connection) -> Bool {
        let id = decoded.requestID
        switch decoded.frame {
        case .hello: connection.send(.helloOK(Frame.HelloOK()), requestID: id)
        case .login(let login):
            connection.user = login.user
            connection.device = login.device
            let reply: Frame = storage.withLock { storage in
                storage.loginCount += 1
                let mailbox = storage.mailboxes[login.user] ?? Mailbox()
                let newest = mailbox.records.last?.seq ?? 0
                let cursor = mailbox.cursors[login.device] ?? mailbox.cursors.values.max() ?? 0
                return .loginOK(Frame.LoginOK(newestSeq: newest, confirmedSeq: mailbox.cursors.values.max() ?? 0,
                                              deviceCursor: cursor, firstSeq: 1, epoch: 1))
            }
            connection.send(reply, requestID: id)
        case .send(let send):
            let outcome = storage.withLock { storage -> (Frame.SendOK, Bool) in
                storage.sendFrames += 1
                let key = [connection.user, connection.device, send.clientMessageID]
                if let (seq, outgoing) = storage.stored[key] {
                    return (Frame.SendOK(seq: seq, outgoingSeq: outgoing, timestampMs: 1, duplicate: true), false)
                }
                let (seq, outgoing) = store(&storage, sender: connection.user, device: connection.device, to: send.to,
                                            id: send.clientMessageID, body: send.body)
                var drop = false
                if let remaining = storage.dropAfterStoring {
                    storage.dropAfterStoring = remaining - 1
                    drop = remaining <= 1
                    if drop { storage.dropAfterStoring = nil }
                }
                return (Frame.SendOK(seq: seq, outgoingSeq: outgoing, timestampMs: wallClockMs(), duplicate: false), drop)
            }
            notify(send.to)
            notify(connection.user)
            if outcome.1 { return false }
            connection.send(.sendOK(outcome.0), requestID: id)
        case .pull(let pull):
            let page = storage.withLock { storage -> Frame.PullOK in
                let records = storage.mailboxes[connection.user]?.records ?? []
                let after = records.drop { $0.seq <= pull.after }
                let limit = Int(min(pull.limit, 256))
                return Frame.PullOK(newestSeq: records.last?.seq ?? 0, epoch: 1, hasMore: after.count > limit, records: Array(after.prefix(limit)))
            }
            connection.send(.pullOK(page), requestID: id)
        case .ack(let ack):
            storage.withLock { storage in
                let current = storage.mailboxes[connection.user]?.cursors[connection.device] ?? 0
                storage.mailboxes[connection.user, default: Mailbox()].cursors[connection.device] = max(current, ack.seq)
            }
            connection.send(.ackOK(Frame.AckOK(seq: ack.seq)), requestID: id)
        case .ping(let ping): connection.send(.pong(Frame.Pong(nonce: ping.nonce)), requestID: id)
        case .block(let block): connection.send(.blockOK(Frame.BlockOK(user: block.user, blocked: true)), requestID: id)
        case .unblock(let unblock): connection.send(.blockOK(Frame.BlockOK(user: unblock.user, blocked: false)), requestID: id)
        case .goodbye: return false
        default: return false
        }
        return true
    }

    private func store(_ storage: inout Storage, sender: UInt64, device: UInt64, to recipient: UInt64, id: UInt64, body: [UInt8]) -> (UInt32, UInt32) {
        let now = wallClockMs()
        let seq = UInt32(storage.mailboxes[recipient]?.records.count ?? 0) + 1
        storage.mailboxes[recipient, default: Mailbox()].records.append(
            PullRecord(seq: seq, peer: sender, senderDevice: device, clientMessageID: id, timestampMs: now, body: body))
        let outgoing = UInt32(storage.mailboxes[sender]?.records.count ?? 0) + 1
        storage.mailboxes[sender, default: Mailbox()].records.append(
            PullRecord(seq: outgoing, outgoing: true, peer: recipient, senderDevice: device, clientMessageID: id, timestampMs: now, body: body))
        storage.stored[[sender, device, id]] = (seq, outgoing)
        return (seq, outgoing)
    }

    private func notify(_ user: UInt64) {
        let (targets, newest) = storage.withLock { storage in
            (storage.connections.values.filter { $0.user == user }, storage.mailboxes[user]?.records.last?.seq ?? 0)
        }
        for target in targets { target.send(.notify(Frame.Notify(newestSeq: newest, epoch: 1)), requestID: 0) }
    }

    private func wallClockMs() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
}
