import SeqboxProtocol

/// Checks of the e2e benchmark's own protocol code, run before every e2e run and by
/// `seqbox-bench e2e-selfcheck` (which the test suite runs: its test target cannot link the
/// executable's code). Covers the token minting (PROTOCOL.md §8's worked example, and
/// `seqboxd token` when it is built), the hand-laid Seqbox frames against `FrameEncoder` and
/// `FrameDecoder`, the RESP2 encoder and scanner (every type, nil values, nesting, every split
/// point of a reply, malformed input), and both load clients' reply handling on scripted
/// replies (no server involved).
enum E2ESelfCheck {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs every check; returns their names. `seqboxd`: the server binary, to compare tokens.
    static func run(seqboxd: String?, directory: String) throws -> [String] {
        var passed: [String] = []
        func check(_ name: String, _ body: () throws -> Void) throws {
            do { try body() } catch { throw Failure(description: "self-check \(name) failed: \(error)") }
            passed.append(name)
        }
        try check("hmac token of PROTOCOL.md §8", protocolTokenExample)
        if let seqboxd {
            try check("token equals seqboxd token") { try tokenMatchesServer(seqboxd, directory: directory) }
        }
        try check("seqbox client frames equal FrameEncoder", seqboxClientFrames)
        try check("seqbox server frames read like FrameDecoder", seqboxServerFrames)
        try check("seqbox incomplete and bad frames", seqboxIncompleteFrames)
        try check("resp encoder", respEncoder)
        try check("resp parses every type", respTypes)
        try check("resp incomplete at every split", respSplits)
        try check("resp rejects malformed input", respMalformed)
        try check("seqbox client notify pull ack", seqboxClientFlow)
        try check("redis client xadd replies", redisSenderReplies)
        try check("redis client xread replies at every split", redisReaderReplies)
        return passed
    }

    private static func expect(_ condition: Bool, _ what: @autoclosure () -> String) throws {
        if !condition { throw Failure(description: what()) }
    }

    // MARK: Tokens

    private static func protocolTokenExample() throws {
        let token = LoginTokenMinter(secret: Array("seqbox-example-secret".utf8)).token(user: 1001, device: 7, expiresAtSeconds: 1_767_225_600)
        try expect(token.count == ProtocolConstants.tokenSize, "token size")
        try expect(LoginTokenMinter.hex(Array(token[9...])) == "3e4ba9b9580bf5e3ad8fe6920d79310057c4044ebe81d6aa8231b59862c4e2de", "MAC of the worked example")
    }

    private static func tokenMatchesServer(_ seqboxd: String, directory: String) throws {
        try FileTree.createDirectory(directory)
        let secret = try LoginTokenMinter.randomSecret()
        let server = try SeqboxServerProcess.mintWithServer(executable: seqboxd, secret: secret, user: 4242, device: 9, directory: directory)
        guard let parsed = LoginToken(bytes: server) else { throw Failure(description: "seqboxd token is not a token") }
        let own = LoginTokenMinter(secret: secret).token(user: 4242, device: 9, expiresAtSeconds: parsed.expiresAtSeconds)
        try expect(own == server, "own token \(LoginTokenMinter.hex(own)) != seqboxd's \(LoginTokenMinter.hex(server))")
    }

    // MARK: Seqbox frames

    private static func seqboxClientFrames() throws {
        let body = Array("hello, seqbox".utf8)
        let buffer = ByteBuffer()
        body.withUnsafeBytes { SeqboxWire.appendSend(to: 1002, clientMessageID: 5001, body: $0, requestID: 3, into: buffer) }
        try expect(Array(buffer.readable) == FrameEncoder.encode(.send(Frame.Send(to: 1002, clientMessageID: 5001, body: body)), requestID: 3), "SEND")
        buffer.removeAll()
        SeqboxWire.appendPull(after: 40, epoch: 1, limit: 100, requestID: 4, into: buffer)
        try expect(Array(buffer.readable) == FrameEncoder.encode(.pull(Frame.Pull(after: 40, epoch: 1, limit: 100)), requestID: 4), "PULL")
        buffer.removeAll()
        SeqboxWire.appendAck(seq: 42, requestID: 5, into: buffer)
        try expect(Array(buffer.readable) == FrameEncoder.encode(.ack(Frame.Ack(seq: 42)), requestID: 5), "ACK")
    }

    static let sampleRecords = [
        PullRecord(seq: 41, outgoing: false, peer: 1002, senderDevice: 3, clientMessageID: 9001, timestampMs: 1_767_225_500_000, body: Array("hello".utf8)),
        PullRecord(seq: 42, outgoing: false, peer: 1002, senderDevice: 3, clientMessageID: 9002, timestampMs: 1_767_225_600_123, body: Array("hi".utf8)),
    ]

    private static func seqboxServerFrames() throws {
        var stream = FrameEncoder.encode(.sendOK(Frame.SendOK(seq: 17, outgoingSeq: 42, timestampMs: 7)), requestID: 3)
        FrameEncoder.encode(.notify(Frame.Notify(newestSeq: 43, epoch: 2)), requestID: 0, into: &stream)
        FrameEncoder.encode(.pullOK(Frame.PullOK(newestSeq: 42, epoch: 1, hasMore: true, records: sampleRecords)), requestID: 4, into: &stream)
        FrameEncoder.encode(.error(Frame.ErrorReport(code: .rateLimited, closing: true, retryAfterMs: 2000, message: "slow down")), requestID: 9, into: &stream)
        try stream.withUnsafeBytes { bytes in
            var offset = 0
            var frames: [SeqboxWire.ServerFrame] = []
            while let (frame, next) = try SeqboxWire.frame(in: bytes, at: offset) {
                frames.append(frame)
                offset = next
            }
            try expect(offset == bytes.count && frames.count == 4, "four frames, \(frames.count) read")
            try expect(frames[0].type == FrameType.sendOK.rawValue && frames[0].requestID == 3, "SEND_OK header")
            try expect(frames[1].type == FrameType.notify.rawValue && frames[1].requestID == 0 && (try frames[1].u32(0)) == 43 && (try frames[1].u32(4)) == 2, "NOTIFY")
            let head = try SeqboxWire.pullOKHead(frames[2])
            try expect(head.newestSeq == 42 && head.epoch == 1 && head.hasMore && head.recordCount == 2, "PULL_OK head")
            var seen: [(UInt32, UInt64, UInt64)] = []
            let last = try SeqboxWire.forEachRecord(of: frames[2], count: head.recordCount) { seen.append(($0, $1, $2)) }
            try expect(last == 42 && seen.map(\.0) == [41, 42] && seen.map(\.1) == [1002, 1002] && seen.map(\.2) == [9001, 9002], "PULL_OK records")
            try expect(frames[3].requestID == 9 && (try frames[3].u16(0)) == ErrorCode.rateLimited.rawValue
                && (try frames[3].u8(2)) & ProtocolConstants.errorFlagClosing != 0, "ERROR")
        }
    }

    private static func seqboxIncompleteFrames() throws {
        let frame = FrameEncoder.encode(.pullOK(Frame.PullOK(newestSeq: 42, epoch: 1, hasMore: false, records: sampleRecords)), requestID: 4)
        for cut in 0 ..< frame.count {
            let partial = try Array(frame[..<cut]).withUnsafeBytes { try SeqboxWire.frame(in: $0, at: 0) }
            try expect(partial == nil, "a frame cut at \(cut) reads as incomplete")
        }
        var tooShort = frame
        tooShort[0] = 3
        tooShort[1] = 0
        try expect((try? tooShort.withUnsafeBytes { try SeqboxWire.frame(in: $0, at: 0) }) == nil, "a length below 8 is refused")
        var lying = frame
        lying[ProtocolConstants.frameHeaderSize + 10] = 3 // recordCount 3, only 2 present
        let threw = lying.withUnsafeBytes { bytes -> Bool in
            guard let (read, _) = try? SeqboxWire.frame(in: bytes, at: 0) else { return false }
            return (try? SeqboxWire.forEachRecord(of: read, count: 3) { _, _, _ in }) == nil
        }
        try expect(threw, "a record count beyond the body is refused")
    }

    // MARK: RESP

    private static func respEncoder() throws {
        try expect(RESPEncoder.command(["SET", "k", "v"]) == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n".utf8), "SET k v")
        try expect(RESPEncoder.command(["ECHO", ""]) == Array("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n".utf8), "empty argument")
        let buffer = ByteBuffer()
        RESPEncoder.decimalBulk(1_767_225_600_123_456_789, into: buffer)
        try expect(Array(buffer.readable) == Array("$19\r\n1767225600123456789\r\n".utf8), "decimal bulk")
        buffer.removeAll()
        RESPEncoder.decimalBulk(0, into: buffer)
        try expect(Array(buffer.readable) == Array("$1\r\n0\r\n".utf8), "decimal bulk 0")
    }

    private static func parse(_ text: String) throws -> RESPValue? { try RESPValue.parse(Array(text.utf8))?.value }

    private static func respTypes() throws {
        try expect(try parse("+OK\r\n") == .simple("OK"), "simple string")
        try expect(try parse("-ERR wrong type\r\n") == .error("ERR wrong type"), "error")
        try expect(try parse(":-42\r\n") == .integer(-42), "integer")
        try expect(try parse("$5\r\nhe\r\nl\r\n") == .bulk(Array("he\r\nl".utf8)), "bulk with CRLF inside")
        try expect(try parse("$0\r\n\r\n") == .bulk([]), "empty bulk")
        try expect(try parse("$-1\r\n") == .nullBulk, "nil bulk")
        try expect(try parse("*-1\r\n") == .nullArray, "nil array")
        try expect(try parse("*0\r\n") == .array([]), "empty array")
        try expect(try parse("*2\r\n*1\r\n:1\r\n$-1\r\n") == .array([.array([.integer(1)]), .nullBulk]), "nested")
        let two = Array("+A\r\n:2\r\n".utf8)
        try expect((try RESPValue.parse(two))?.consumed == 4, "one value at a time")
    }

    static let sampleReply = "*1\r\n*2\r\n$13\r\ninbox:2000000\r\n*2\r\n"
        + "*2\r\n$15\r\n1700000000000-0\r\n*4\r\n$1\r\nk\r\n$3\r\n101\r\n$1\r\np\r\n$5\r\nhello\r\n"
        + "*2\r\n$15\r\n1700000000000-1\r\n*4\r\n$1\r\nk\r\n$3\r\n102\r\n$1\r\np\r\n$0\r\n\r\n"

    private static func respSplits() throws {
        let bytes = Array(sampleReply.utf8)
        for cut in 0 ..< bytes.count {
            let partial = try Array(bytes[..<cut]).withUnsafeBytes { try RESPScanner($0).valueEnd(from: 0) }
            try expect(partial == nil, "a reply cut at \(cut) reads as incomplete")
        }
        let end = try bytes.withUnsafeBytes { try RESPScanner($0).valueEnd(from: 0) }
        try expect(end == bytes.count, "the whole reply")
    }

    private static func respMalformed() throws {
        for bad in ["?x\r\n", "$x\r\n", "$3\r\nabcd\r\n", ":12a\r\n", "*-2\r\n", "+a\rb\r\n", "$-5\r\n", "%1\r\n"] {
            let threw = (try? Array(bad.utf8).withUnsafeBytes { try RESPScanner($0).valueEnd(from: 0) }) == nil
            try expect(threw, "malformed \(bad.debugDescription) refused")
        }
    }

    // MARK: Clients on scripted replies

    /// A recorder with one phase covering scheduled times 1...10,000.
    private static func scriptedRecorder() -> LoadRecorder {
        let recorder = LoadRecorder()
        recorder.begin(LoadPhase(index: 0, name: "script", startNs: 1, endNs: 10_000, ratePerSecond: 1))
        return recorder
    }

    private static func seqboxClientFlow() throws {
        let client = SeqboxLoadClient(pairs: [SeqboxLoadClient.Pair(senderUser: 1002, recipientUser: 2002, recipientNewestSeq: 40, recipientEpoch: 1)])
        let recorder = scriptedRecorder()
        let sender = LoadConnection(fd: -1, pair: 0, role: .sender)
        let recipient = LoadConnection(fd: -1, pair: 0, role: .recipient)
        for scheduled: UInt64 in [9001, 9002] {
            let index = sender.window.push(scheduled)
            client.appendSend(pair: 0, requestIndex: index, scheduled: scheduled, payload: UnsafeRawBufferPointer(start: nil, count: 0), into: sender.output)
        }
        try expect(Array(sender.output.readable) == FrameEncoder.encode(.send(Frame.Send(to: 2002, clientMessageID: 9001, body: [])), requestID: 1)
            + FrameEncoder.encode(.send(Frame.Send(to: 2002, clientMessageID: 9002, body: [])), requestID: 2), "SENDs")
        // Replies out of order.
        var replies = FrameEncoder.encode(.sendOK(Frame.SendOK(seq: 42, outgoingSeq: 2, timestampMs: 0)), requestID: 2)
        FrameEncoder.encode(.sendOK(Frame.SendOK(seq: 41, outgoingSeq: 1, timestampMs: 0)), requestID: 1, into: &replies)
        let consumed = try replies.withUnsafeBytes { try client.receive($0, on: sender, now: 9500, recorder: recorder) }
        try expect(consumed == replies.count && recorder.tallies[0].counts.acknowledged == 2 && sender.window.outstanding == 0, "SEND_OKs")

        let notify = FrameEncoder.encode(.notify(Frame.Notify(newestSeq: 42, epoch: 1)), requestID: 0)
        _ = try notify.withUnsafeBytes { try client.receive($0, on: recipient, now: 9600, recorder: recorder) }
        try expect(Array(recipient.output.readable) == FrameEncoder.encode(.pull(Frame.Pull(after: 40, epoch: 1, limit: SeqboxLoadClient.pullLimit)), requestID: 3), "NOTIFY → PULL")
        recipient.output.removeAll()
        let pullOK = FrameEncoder.encode(.pullOK(Frame.PullOK(newestSeq: 42, epoch: 1, hasMore: false, records: sampleRecords)), requestID: 3)
        _ = try pullOK.withUnsafeBytes { try client.receive($0, on: recipient, now: 9700, recorder: recorder) }
        try expect(Array(recipient.output.readable) == FrameEncoder.encode(.ack(Frame.Ack(seq: 42)), requestID: 4), "PULL_OK → ACK")
        let counts = recorder.tallies[0].counts
        try expect(counts.delivered == 2 && counts.notified == 2 && counts.notifiedByReply == 0 && counts.anomalies == 0, "deliveries \(counts)")
        try expect(recorder.tallies[0].notification.maxValue == 9600 - 9001 && recorder.tallies[0].delivery.maxValue == 9700 - 9001, "latencies")
    }

    private static func redisSenderReplies() throws {
        let client = RedisLoadClient(pairs: [(sender: 1000000, recipient: 2000000)])
        let recorder = scriptedRecorder()
        let sender = LoadConnection(fd: -1, pair: 0, role: .sender)
        for scheduled: UInt64 in [101, 102, 103] {
            let index = sender.window.push(scheduled)
            Array("hey".utf8).withUnsafeBytes { client.appendSend(pair: 0, requestIndex: index, scheduled: scheduled, payload: $0, into: sender.output) }
        }
        let expected = ["101", "102", "103"].flatMap { RESPEncoder.command(["XADD", "inbox:2000000", "*", "k", $0, "p", "hey"]) }
        try expect(Array(sender.output.readable) == expected, "XADD commands")
        let replies = Array("$15\r\n1700000000000-0\r\n-OOM command not allowed\r\n$15\r\n1700000000000-1\r\n".utf8)
        // Arriving in pieces, as a load thread feeds them: partial replies wait in the input.
        var start = 0
        for cut in [7, 30, 31, replies.count] {
            sender.input.append(Array(replies[start ..< cut]))
            start = cut
            sender.input.consume(try client.receive(sender.input.readable, on: sender, now: 200, recorder: recorder))
        }
        let counts = recorder.tallies[0].counts
        try expect(sender.input.isEmpty && counts.acknowledged == 2 && counts.failed == 1 && sender.window.outstanding == 0, "XADD replies \(counts)")
        try expect(recorder.tallies[0].errorSamples == ["OOM command not allowed"], "error text")
    }

    private static func redisReaderReplies() throws {
        let bytes = Array(sampleReply.utf8)
        for cut in 1 ..< bytes.count {
            let client = RedisLoadClient(pairs: [(sender: 1000000, recipient: 2000000)])
            let recorder = scriptedRecorder()
            let recipient = LoadConnection(fd: -1, pair: 0, role: .recipient)
            let first = try Array(bytes[..<cut]).withUnsafeBytes { try client.receive($0, on: recipient, now: 500, recorder: recorder) }
            try expect(first == 0, "an incomplete reply is left for later")
            recipient.input.append(bytes)
            let used = try client.receive(recipient.input.readable, on: recipient, now: 500, recorder: recorder)
            try expect(used == bytes.count, "the whole reply is consumed")
            let counts = recorder.tallies[0].counts
            try expect(counts.delivered == 2 && counts.anomalies == 0 && recorder.tallies[0].delivery.maxValue == 399, "deliveries \(counts)")
            let next = RESPEncoder.command(["XREAD", "BLOCK", "0", "STREAMS", "inbox:2000000", "1700000000000-1"])
            try expect(Array(recipient.output.readable) == next, "the next XREAD starts after the last id")
        }
    }
}
