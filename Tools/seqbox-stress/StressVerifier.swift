#if canImport(Glibc)
import Glibc
#endif
import SeqboxFormat
import SeqboxStore

/// `seqbox-stress verify`: checks a store written by `append` (and the acknowledgements it
/// printed): contiguous mailboxes, intact self-describing payloads, no duplicates, every
/// acknowledged append present with its seq.
struct StressVerifier {
    /// One "ack USER SEQ CMID" line.
    struct Acknowledgement: Equatable {
        var user: UInt64
        var seq: UInt32
        var clientMessageID: UInt64

        /// Parses a line; nil for anything else (a partial last line of a killed writer).
        init?(line: Substring) {
            let fields = line.split(separator: " ")
            guard fields.count == 4, fields[0] == "ack", let user = UInt64(fields[1]), let seq = UInt32(fields[2]),
                  let clientMessageID = UInt64(fields[3]) else { return nil }
            self.user = user
            self.seq = seq
            self.clientMessageID = clientMessageID
        }
    }

    /// Mailbox reads are paged by this many messages.
    static let readPage = 1000
    /// Problems printed before the rest are only counted.
    static let problemsShownMax = 50

    let store: MailboxStore
    private(set) var problems: [String] = []
    private(set) var messagesChecked = 0
    /// Where each (sender, device, cmid) was found: (mailbox, seq).
    private var found: [IdempotencyIdentity: (user: UInt64, seq: UInt32)] = [:]

    private struct IdempotencyIdentity: Hashable {
        var sender: UInt64, device: UInt64, clientMessageID: UInt64
    }

    init(store: MailboxStore) {
        self.store = store
    }

    mutating func checkMailboxes() {
        for user in store.users() { checkMailbox(user) }
    }

    private mutating func checkMailbox(_ user: UserID) {
        let info = store.mailboxInfo(user: user)
        var after = info.firstAvailable.rawValue &- 1
        while after < info.newestSeq.rawValue {
            let result: ReadResult
            do {
                result = try store.read(user: user, after: Seq(after), limit: Self.readPage)
            } catch {
                return problems.append("user \(user): read after \(after) failed: \(error)")
            }
            guard result.status == .ok, !result.messages.isEmpty else {
                return problems.append("user \(user): read after \(after) answered \(result.status) (newest \(info.newestSeq))")
            }
            for message in result.messages {
                guard message.seq.rawValue == after + 1 else {
                    return problems.append("user \(user): seq \(message.seq) follows \(after)")
                }
                after += 1
                check(message, user: user.rawValue)
            }
        }
    }

    private mutating func check(_ message: StoredMessage, user: UInt64) {
        messagesChecked += 1
        let identity = IdempotencyIdentity(sender: message.sender.rawValue, device: message.device.rawValue,
                                           clientMessageID: message.clientMessageID.rawValue)
        if let earlier = found[identity] {
            problems.append("cmid \(identity.clientMessageID) from sender \(identity.sender) is stored twice: user \(earlier.user) seq \(earlier.seq) and user \(user) seq \(message.seq)")
        }
        found[identity] = (user, message.seq.rawValue)
        if let problem = StressPayload.problem(message.payload, user: user, clientMessageID: message.clientMessageID.rawValue) {
            problems.append("user \(user) seq \(message.seq): \(problem)")
        }
    }

    /// Checks that every acknowledgement is present: the message at (user, seq) carries the cmid.
    mutating func checkAcknowledgements(_ acknowledgements: [Acknowledgement]) {
        var byID: [UInt64: (user: UInt64, seq: UInt32)] = [:]
        for (identity, place) in found { byID[identity.clientMessageID] = place }
        for ack in acknowledgements {
            guard let place = byID[ack.clientMessageID] else {
                problems.append("acknowledged cmid \(ack.clientMessageID) (user \(ack.user) seq \(ack.seq)) is missing")
                continue
            }
            if place != (ack.user, ack.seq) {
                problems.append("acknowledged cmid \(ack.clientMessageID) was user \(ack.user) seq \(ack.seq), is user \(place.user) seq \(place.seq)")
            }
        }
    }

    /// Reads acknowledgement lines from `path`.
    static func loadAcknowledgements(path: String) -> Result<[Acknowledgement], StoreError> {
        guard let file = fopen(path, "r") else {
            return .failure(.invalidArgument("cannot open \(path): \(String(cString: strerror(errno)))"))
        }
        defer { fclose(file) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count == 0 { break }
            text += chunk[0 ..< count]
        }
        return .success(String(decoding: text, as: UTF8.self).split(separator: "\n").compactMap { Acknowledgement(line: $0) })
    }
}
