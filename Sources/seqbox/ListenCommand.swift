#if canImport(Glibc)
import Glibc
#endif
import SeqboxClient

/// `seqbox listen` and `seqbox chat --with U`: keep the connection, print messages as they
/// arrive (seq, latency), and for chat send each typed line.
enum ListenCommand {
    static let listenHelp = """
    usage: seqbox listen

    Prints your messages as they arrive, each with its seq and delivery latency (now minus the
    server's timestamp), your own messages from other devices included. Resumes after the last
    message this device printed (the state file). Ctrl-C stops.
    """

    static let chatHelp = """
    usage: seqbox chat --with U

    Like listen, and sends every line you type to user U. Lines starting with / are commands:
      /block U   /unblock U   /history N (records after seq N)   /quit
    End with Ctrl-D or Ctrl-C.
    """

    static func run(_ options: CLIOptions, chatWith peer: UInt64?) throws(CLIError) {
        guard options.rest.isEmpty else { throw CLIError.usage("unexpected \(options.rest.joined(separator: " "))") }
        let user = try options.identity().user
        Termination.blockSignals()
        let client = try ClientFactory.syncingClient(options) { event in
            Output.print(event, user: user)
            if case .stopped(let reason) = event, reason != .requested { Termination.requestTermination() }
        }
        try ClientFactory.start(client)
        if let peer { startReadingLines(client: client, peer: peer, user: user, timeoutSeconds: options.timeoutSeconds) }
        Termination.waitForTermination()
        client.stop()
    }

    /// Reads standard input on its own thread: lines to send, slash commands. At the end of the
    /// input, waits (up to `timeoutSeconds`) until every typed message is stored, then finishes.
    private static func startReadingLines(client: MailboxClient, peer: UInt64, user: UInt64, timeoutSeconds: Int) {
        final class Box {
            let body: () -> Void
            init(_ body: @escaping () -> Void) { self.body = body }
        }
        let box = Unmanaged.passRetained(Box {
            while let line = readLine() {
                handle(line, client: client, peer: peer, user: user)
            }
            for _ in 0 ..< timeoutSeconds * 100 where client.outboxCount > 0 { usleep(10_000) }
            usleep(200_000)
            Termination.requestTermination()
        }).toOpaque()
        var thread = pthread_t()
        pthread_create(&thread, nil, { Unmanaged<Box>.fromOpaque($0!).takeRetainedValue().body(); return nil }, box)
        pthread_detach(thread)
    }

    private static func handle(_ line: String, client: MailboxClient, peer: UInt64, user: UInt64) {
        let words = line.split(separator: " ").map(String.init)
        do {
            switch words.first {
            case nil: return
            case "/quit": Termination.requestTermination()
            case "/block" where words.count == 2: try client.block(UInt64(words[1]) ?? 0)
            case "/unblock" where words.count == 2: try client.unblock(UInt64(words[1]) ?? 0)
            case "/history" where words.count == 2:
                try client.history(after: UInt32(words[1]) ?? 0) { result in
                    switch result {
                    case .success(let page):
                        for message in page.messages { Output.line("history " + Output.message(message, user: user, withLatency: false)) }
                        if let first = page.expiredBefore { Output.line("history: records before seq \(first) expired") }
                        if page.hasMore { Output.line("history: more after seq \(page.messages.last?.seq ?? 0)") }
                        if page.messages.isEmpty, page.expiredBefore == nil { Output.line("history: no records after seq \(words[1])") }
                    case .failure(let error): Output.error("history: \(error)")
                    }
                }
            default:
                if line.hasPrefix("/") {
                    Output.error("commands: /block U, /unblock U, /history N, /quit")
                } else {
                    try client.send(to: peer, text: line)
                }
            }
        } catch {
            Output.error("\(error)")
        }
    }
}
