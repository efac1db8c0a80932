/// What a load thread's Redis connections do, the Redis Streams way of running per-user
/// inboxes: a sender pipelines `XADD inbox:<recipient> * k <scheduled ns> p <payload>`
/// open-loop and matches replies in order (Redis answers a connection's commands in order);
/// a recipient keeps one `XREAD BLOCK 0 STREAMS inbox:<user> <last id>` outstanding, like a
/// live client, and issues the next one as soon as a reply arrives. Latencies: send → XADD
/// reply (the append, durable per `appendfsync`) and send → XREAD returned the entry. The
/// `k` field carries the scheduled send time, as the Seqbox clientMessageID does.
final class RedisLoadClient: LoadClient {
    private let xaddPrefixes: [[UInt8]]
    private let xreadPrefixes: [[UInt8]]
    private var lastIDs: [[UInt8]]
    private var lastDelivered: [UInt64]
    /// The bulk string "p", the name of the payload field.
    private static let payloadField = Array("$1\r\np\r\n".utf8)

    /// `pairs[i]` = (sender user, recipient user) of the thread's pair i.
    init(pairs: [(sender: UInt64, recipient: UInt64)]) {
        xaddPrefixes = pairs.map { pair in
            let buffer = ByteBuffer()
            RESPEncoder.arrayHeader(7, into: buffer)
            for argument in ["XADD", Self.streamKey(pair.recipient), "*", "k"] { Array(argument.utf8).withUnsafeBytes { RESPEncoder.bulk($0, into: buffer) } }
            return Array(buffer.readable)
        }
        xreadPrefixes = pairs.map { pair in
            let buffer = ByteBuffer()
            RESPEncoder.arrayHeader(6, into: buffer)
            for argument in ["XREAD", "BLOCK", "0", "STREAMS", Self.streamKey(pair.recipient)] { Array(argument.utf8).withUnsafeBytes { RESPEncoder.bulk($0, into: buffer) } }
            return Array(buffer.readable)
        }
        lastIDs = Array(repeating: Array("0-0".utf8), count: pairs.count)
        lastDelivered = Array(repeating: 0, count: pairs.count)
    }

    static func streamKey(_ user: UInt64) -> String { "inbox:\(user)" }

    func appendSend(pair: Int, requestIndex: UInt64, scheduled: UInt64, payload: UnsafeRawBufferPointer, into output: ByteBuffer) {
        output.append(xaddPrefixes[pair])
        RESPEncoder.decimalBulk(scheduled, into: output)
        Self.payloadField.withUnsafeBytes { output.append($0) }
        RESPEncoder.bulk(payload, into: output)
    }

    func startRecipient(pair: Int, into output: ByteBuffer) { appendRead(pair, output) }

    private func appendRead(_ pair: Int, _ output: ByteBuffer) {
        output.append(xreadPrefixes[pair])
        lastIDs[pair].withUnsafeBytes { RESPEncoder.bulk($0, into: output) }
    }

    func receive(_ bytes: UnsafeRawBufferPointer, on connection: LoadConnection, now: UInt64, recorder: LoadRecorder) throws -> Int {
        let scanner = RESPScanner(bytes)
        var offset = 0
        if connection.role == .sender {
            while let (header, next) = try scanner.header(at: offset) {
                switch header {
                case .bulk:
                    guard let (_, after) = try scanner.bulk(at: offset) else { return offset }
                    offset = after
                    guard let scheduled = connection.window.takeOldest() else { throw BenchError("Redis answered an XADD never sent") }
                    recorder.acknowledged(scheduled: scheduled, now: now)
                case .error(let range):
                    offset = next
                    guard let scheduled = connection.window.takeOldest() else { throw BenchError("Redis answered an XADD never sent") }
                    recorder.failed(scheduled: scheduled, code: -1, text: Self.text(scanner, range))
                default:
                    throw RESPScanner.Malformed(offset: offset, reason: "unexpected XADD reply \(header)")
                }
            }
            return offset
        }
        while let end = try scanner.valueEnd(from: offset) {
            try readEntries(scanner, at: offset, pair: connection.pair, now: now, recorder: recorder)
            offset = end
            appendRead(connection.pair, connection.output)
        }
        return offset
    }

    /// Walks one whole XREAD reply: `[[key, [[id, [field, value, …]], …]]]`, or nil.
    private func readEntries(_ scanner: RESPScanner, at start: Int, pair: Int, now: UInt64, recorder: LoadRecorder) throws {
        var offset = start
        func array() throws -> Int? {
            let (header, next) = try scanner.header(at: offset)!
            if case .error(let range) = header { throw BenchError("XREAD failed: \(Self.text(scanner, range))") }
            guard case .array(let count) = header else { throw RESPScanner.Malformed(offset: offset, reason: "expected an array in an XREAD reply") }
            offset = next
            return count
        }
        func bulk() throws -> Range<Int>? {
            let (range, next) = try scanner.bulk(at: offset)!
            offset = next
            return range
        }
        guard let streams = try array() else { return } // nil: a timeout (not with BLOCK 0)
        var lastID: Range<Int>?
        defer { if let lastID { lastIDs[pair] = Array(UnsafeRawBufferPointer(rebasing: scanner.bytes[lastID])) } }
        for _ in 0 ..< streams {
            guard try array() == 2 else { throw RESPScanner.Malformed(offset: offset, reason: "stream is not [key, entries]") }
            _ = try bulk()
            let entries = try array() ?? 0
            for _ in 0 ..< entries {
                guard try array() == 2, let id = try bulk() else { throw RESPScanner.Malformed(offset: offset, reason: "entry is not [id, fields]") }
                let fields = try array() ?? 0
                var scheduled: UInt64?
                for _ in 0 ..< fields / 2 {
                    let name = try bulk()
                    let value = try bulk()
                    if let name, let value, scanner.equals(name, "k") { scheduled = scanner.decimal(value) }
                }
                if fields % 2 == 1 { _ = try bulk() }
                lastID = id
                guard let scheduled else {
                    recorder.anomaly(scheduled: 0)
                    continue
                }
                recorder.delivered(scheduled: scheduled, now: now)
                if scheduled <= lastDelivered[pair] { recorder.anomaly(scheduled: scheduled) }
                lastDelivered[pair] = max(lastDelivered[pair], scheduled)
            }
        }
    }

    private static func text(_ scanner: RESPScanner, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: scanner.bytes[range]), as: UTF8.self)
    }
}
