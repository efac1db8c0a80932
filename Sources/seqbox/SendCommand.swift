#if canImport(Glibc)
import Glibc
#endif
import SeqboxClient
import Synchronization

/// `seqbox send --to U TEXT`: syncs (printing what arrived meanwhile, so nothing is taken
/// unseen), sends, and waits for the server's receipt.
enum SendCommand {
    static let help = """
    usage: seqbox send --to U TEXT...

    Sends TEXT to user U and waits for the server to store it. The message is saved in the state
    file first: if no receipt comes in time, the next seqbox command of this device resends it
    with the same ID (it is never stored twice). Messages that arrived for you are printed too.
    """

    static func run(_ options: CLIOptions) throws(CLIError) {
        var recipient: UInt64?
        var words: [String] = []
        var index = 0
        while index < options.rest.count {
            if options.rest[index] == "--to", index + 1 < options.rest.count {
                recipient = try CLIOptions.number(options.rest[index + 1], "--to")
                index += 2
            } else {
                words.append(options.rest[index])
                index += 1
            }
        }
        guard let recipient else { throw CLIError.usage("--to U is required") }
        guard !words.isEmpty else { throw CLIError.usage("nothing to send") }
        let user = try options.identity().user
        let settled = Mutex<[UInt64: SendOutcome]>([:])
        let stopped = Mutex<StopReason?>(nil)
        let client = try ClientFactory.syncingClient(options) { event in
            Output.print(event, user: user)
            switch event {
            case .sent(let receipt): settled.withLock { $0[receipt.clientMessageID] = .stored(receipt) }
            case .sendFailed(let failure): settled.withLock { $0[failure.clientMessageID] = .refused("\(failure.code)") }
            case .stopped(let reason): stopped.withLock { $0 = reason }
            default: break
            }
        }
        try ClientFactory.start(client)
        defer { client.stop() }
        let id: UInt64
        do { id = try client.send(to: recipient, text: words.joined(separator: " ")) } catch { throw CLIError.failed(error.description) }
        for _ in 0 ..< max(1, options.timeoutSeconds * 100) {
            if settled.withLock({ $0[id] }) != nil || stopped.withLock({ $0 }) != nil { break }
            usleep(10_000)
        }
        if let reason = stopped.withLock({ $0 }), settled.withLock({ $0[id] }) == nil {
            throw CLIError.failed("\(reason); the message stays queued in \(try options.identity().statePath)")
        }
        switch settled.withLock({ $0[id] }) {
        case .stored?: return
        case .refused(let code)?: throw CLIError.failed("the server refused the message: \(code)")
        case nil:
            throw CLIError.failed("no receipt within \(options.timeoutSeconds) s; the message stays queued in \(try options.identity().statePath) and is resent by the next seqbox command of this device")
        }
    }
}

/// What became of the sent message.
enum SendOutcome: Sendable {
    case stored(SendReceipt)
    case refused(String)
}
