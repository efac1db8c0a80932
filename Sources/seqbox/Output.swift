#if canImport(Glibc)
import Glibc
#endif
import SeqboxClient

/// How the command line prints: one `write` per line (lines from the client's thread and the main
/// thread never interleave), messages with their seq and delivery latency.
enum Output {
    static func line(_ text: String) { write(text, to: STDOUT_FILENO) }
    static func error(_ text: String) { write(text, to: STDERR_FILENO) }

    private static func write(_ text: String, to descriptor: Int32) {
        let bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if count <= 0 { return }
            offset += count
        }
    }

    /// A message as `listen` prints it: seq, direction, latency (now minus the server's
    /// timestamp), text.
    static func message(_ message: InboxMessage, user: UInt64, withLatency: Bool) -> String {
        let direction = message.outgoing ? "you -> \(message.peer) (device \(message.senderDevice))" : "\(message.peer) -> you"
        var latency = ""
        if withLatency {
            let now = ClientClock.wallClockMs()
            latency = " (+\(now > message.timestampMs ? now - message.timestampMs : 0) ms)"
        }
        return "[seq \(message.seq)] \(direction)\(latency): \(message.text)"
    }

    /// The line for an event other than messages, or nil when it is not shown. Connection
    /// changes go to standard error, the rest to standard output.
    static func event(_ event: ClientEvent) -> (text: String, isError: Bool)? {
        switch event {
        case .connected(let summary):
            return ("(connected: holding seq \(summary.heldSeq), newest \(summary.newestSeq), epoch \(summary.epoch))", true)
        case .synced(let held): return ("(caught up at seq \(held))", true)
        case .messages: return nil
        case .sent(let receipt):
            let seq = receipt.seq.map { "seq \($0) in \(receipt.recipient)'s mailbox" } ?? "stored (found in your mailbox)"
            return ("sent #\(receipt.clientMessageID) to \(receipt.recipient): \(seq), your copy seq \(receipt.outgoingSeq)\(receipt.duplicate ? " (retry recognized)" : "")", false)
        case .sendFailed(let failure):
            return ("NOT sent #\(failure.clientMessageID) to \(failure.recipient): \(failure.code)\(failure.message.isEmpty ? "" : " (\(failure.message))")", false)
        case .gap(let gap):
            let why = gap.reason == .expired ? "expired on the server before this device got them" : "lost on the server"
            return ("-- seqs \(gap.first)...\(gap.last) \(why) --", false)
        case .epochChanged(let old, let new):
            return ("-- the mailbox epoch changed from \(old) to \(new): history may be incomplete --", false)
        case .blockChanged(let user, let blocked): return ("\(blocked ? "blocked" : "unblocked") \(user)", false)
        case .blockFailed(let user, let code): return ("could not change the block of \(user): \(code)", false)
        case .pushChanged(let registered): return (registered ? "push token registered" : "push token unregistered", false)
        case .pushFailed(let code): return ("could not change the push token: \(code)", false)
        case .disconnected(let reason, let delay): return ("(disconnected: \(reason); reconnecting in \(delay) ms)", true)
        case .stopped(let reason): return reason == .requested ? nil : ("(stopped: \(reason))", true)
        }
    }

    /// Prints an event the usual way; `messages` with latency.
    static func print(_ event: ClientEvent, user: UInt64) {
        if case .messages(let messages) = event {
            for message in messages { line(self.message(message, user: user, withLatency: true)) }
        } else if let (text, isError) = self.event(event) {
            if isError { error(text) } else { line(text) }
        }
    }
}
