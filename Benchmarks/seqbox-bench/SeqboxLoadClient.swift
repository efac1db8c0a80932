import SeqboxProtocol

/// What a load thread's Seqbox connections do, like a live app (PROTOCOL.md §10): senders
/// pipeline SENDs (clientMessageID = the scheduled send time) and match each SEND_OK or ERROR
/// to its request ID; a recipient, on NOTIFY, PULLs what it lacks (one PULL in flight, a
/// NOTIFY meanwhile only raises the target), and when it has caught up ACKs the newest seq it
/// holds. Latencies: send → SEND_OK, send → the NOTIFY (or PULL_OK newestSeq, when the server
/// coalesced the NOTIFY away) that first covered the message's seq, and send → the PULL_OK
/// holding it. Each recipient gets messages from exactly one sender, so a record from anyone
/// else, or not in send order, is counted as an anomaly.
final class SeqboxLoadClient: LoadClient {
    /// Users and mailbox state of one pair at login.
    struct Pair {
        var senderUser: UInt64
        var recipientUser: UInt64
        /// The recipient mailbox's newest seq and epoch in its LOGIN_OK.
        var recipientNewestSeq: UInt32
        var recipientEpoch: UInt32
    }

    /// Records asked for per PULL: the server's default `pullLimitMax`.
    static let pullLimit = UInt16(ProtocolConstants.defaultPullLimit)
    /// First request ID of a recipient's PULLs and ACKs (HELLO and LOGIN used 1 and 2).
    static let firstRecipientRequestID: UInt32 = 3

    private let senderUsers: [UInt64]
    private let recipientUsers: [UInt64]
    private var held: [UInt32]
    private var acknowledgedSeq: [UInt32]
    private var newest: [UInt32]
    private var epochs: [UInt32]
    private var pullInFlight: [Bool]
    private var nextRequestID: [UInt32]
    private var lastDelivered: [UInt64]
    private var notices: [NoticeLog]

    init(pairs: [Pair]) {
        senderUsers = pairs.map(\.senderUser)
        recipientUsers = pairs.map(\.recipientUser)
        held = pairs.map(\.recipientNewestSeq)
        acknowledgedSeq = held
        newest = held
        epochs = pairs.map(\.recipientEpoch)
        pullInFlight = Array(repeating: false, count: pairs.count)
        nextRequestID = Array(repeating: Self.firstRecipientRequestID, count: pairs.count)
        lastDelivered = Array(repeating: 0, count: pairs.count)
        notices = Array(repeating: NoticeLog(), count: pairs.count)
    }

    func appendSend(pair: Int, requestIndex: UInt64, scheduled: UInt64, payload: UnsafeRawBufferPointer, into output: ByteBuffer) {
        precondition(requestIndex < UInt64(UInt32.max), "request IDs exhausted")
        SeqboxWire.appendSend(to: recipientUsers[pair], clientMessageID: scheduled, body: payload,
                              requestID: UInt32(requestIndex + 1), into: output)
    }

    func startRecipient(pair: Int, into output: ByteBuffer) {}

    func receive(_ bytes: UnsafeRawBufferPointer, on connection: LoadConnection, now: UInt64, recorder: LoadRecorder) throws -> Int {
        var offset = 0
        while let (frame, next) = try SeqboxWire.frame(in: bytes, at: offset) {
            offset = next
            if connection.role == .sender {
                try senderReceived(frame, on: connection, now: now, recorder: recorder)
            } else {
                try recipientReceived(frame, pair: connection.pair, output: connection.output, now: now, recorder: recorder)
            }
        }
        return offset
    }

    // MARK: Sender

    private func senderReceived(_ frame: SeqboxWire.ServerFrame, on connection: LoadConnection, now: UInt64, recorder: LoadRecorder) throws {
        switch frame.type {
        case FrameType.sendOK.rawValue:
            guard frame.requestID != 0, let scheduled = connection.window.take(UInt64(frame.requestID) - 1) else {
                throw SeqboxWire.Malformed(reason: "SEND_OK for unknown request \(frame.requestID)")
            }
            recorder.acknowledged(scheduled: scheduled, now: now)
        case FrameType.error.rawValue:
            let code = Int(try frame.u16(0))
            let closing = try frame.u8(2) & ProtocolConstants.errorFlagClosing != 0
            if frame.requestID != 0, let scheduled = connection.window.take(UInt64(frame.requestID) - 1) {
                recorder.failed(scheduled: scheduled, code: code, text: "ERROR \(code): \(Self.errorMessage(frame))")
            }
            if closing || frame.requestID == 0 { throw BenchError("seqboxd closed a sender: ERROR \(code) \(Self.errorMessage(frame))") }
        case FrameType.notify.rawValue:
            break // the sender's own outgoing copies: this connection does not pull
        case FrameType.goodbye.rawValue:
            throw BenchError("seqboxd said GOODBYE to a sender")
        default:
            throw SeqboxWire.Malformed(reason: "unexpected frame type \(frame.type) on a sender")
        }
    }

    // MARK: Recipient

    private func recipientReceived(_ frame: SeqboxWire.ServerFrame, pair: Int, output: ByteBuffer, now: UInt64, recorder: LoadRecorder) throws {
        switch frame.type {
        case FrameType.notify.rawValue:
            let newestSeq = try frame.u32(0)
            epochs[pair] = try frame.u32(4)
            if newestSeq > newest[pair] {
                notices[pair].append(end: newestSeq, time: now, byReply: false)
                newest[pair] = newestSeq
            }
            if !pullInFlight[pair] && newest[pair] > held[pair] { pull(pair, output) }
        case FrameType.pullOK.rawValue:
            guard pullInFlight[pair] else { throw SeqboxWire.Malformed(reason: "PULL_OK without a PULL") }
            pullInFlight[pair] = false
            let head = try SeqboxWire.pullOKHead(frame)
            epochs[pair] = head.epoch
            if head.newestSeq > newest[pair] {
                notices[pair].append(end: head.newestSeq, time: now, byReply: true)
                newest[pair] = head.newestSeq
            }
            let expectedSender = senderUsers[pair]
            let last = try SeqboxWire.forEachRecord(of: frame, count: head.recordCount) { seq, peer, clientMessageID in
                recorder.delivered(scheduled: clientMessageID, now: now)
                let notice = notices[pair].notice(covering: seq) ?? (now, true)
                recorder.notified(scheduled: clientMessageID, at: notice.time, byReply: notice.byReply)
                if peer != expectedSender || clientMessageID <= lastDelivered[pair] { recorder.anomaly(scheduled: clientMessageID) }
                lastDelivered[pair] = max(lastDelivered[pair], clientMessageID)
            }
            if head.recordCount > 0 {
                held[pair] = last
                notices[pair].drop(through: last)
            }
            if head.hasMore || newest[pair] > held[pair] {
                pull(pair, output)
            } else if held[pair] > acknowledgedSeq[pair] {
                SeqboxWire.appendAck(seq: held[pair], requestID: takeRequestID(pair), into: output)
                acknowledgedSeq[pair] = held[pair]
            }
        case FrameType.ackOK.rawValue:
            break
        case FrameType.error.rawValue:
            throw BenchError("seqboxd refused a recipient request: ERROR \(try frame.u16(0)) \(Self.errorMessage(frame))")
        case FrameType.goodbye.rawValue:
            throw BenchError("seqboxd said GOODBYE to a recipient")
        default:
            throw SeqboxWire.Malformed(reason: "unexpected frame type \(frame.type) on a recipient")
        }
    }

    private func pull(_ pair: Int, _ output: ByteBuffer) {
        SeqboxWire.appendPull(after: held[pair], epoch: epochs[pair], limit: Self.pullLimit, requestID: takeRequestID(pair), into: output)
        pullInFlight[pair] = true
    }

    private func takeRequestID(_ pair: Int) -> UInt32 {
        let id = nextRequestID[pair]
        nextRequestID[pair] = id == UInt32.max ? 1 : id + 1
        return id
    }

    private static func errorMessage(_ frame: SeqboxWire.ServerFrame) -> String {
        guard let length = try? frame.u16(8), ProtocolConstants.errorFixedSize + Int(length) <= frame.body.count else { return "" }
        return String(decoding: UnsafeRawBufferPointer(rebasing: frame.body[ProtocolConstants.errorFixedSize ..< ProtocolConstants.errorFixedSize + Int(length)]), as: UTF8.self)
    }
}

/// When a recipient learned of each seq: a short log of (newest seq, time) notices in
/// arrival order, trimmed as the recipient pulls.
struct NoticeLog {
    private var ends: [UInt32] = []
    private var times: [UInt64] = []
    private var byReplies: [Bool] = []
    private var head = 0

    mutating func append(end: UInt32, time: UInt64, byReply: Bool) {
        ends.append(end)
        times.append(time)
        byReplies.append(byReply)
    }

    /// The first notice covering `seq`.
    func notice(covering seq: UInt32) -> (time: UInt64, byReply: Bool)? {
        var index = head
        while index < ends.count {
            if ends[index] >= seq { return (times[index], byReplies[index]) }
            index += 1
        }
        return nil
    }

    /// Forgets notices that cover only seqs up to `seq`.
    mutating func drop(through seq: UInt32) {
        while head < ends.count && ends[head] <= seq { head += 1 }
        if head == ends.count {
            ends.removeAll(keepingCapacity: true)
            times.removeAll(keepingCapacity: true)
            byReplies.removeAll(keepingCapacity: true)
            head = 0
        }
    }
}
