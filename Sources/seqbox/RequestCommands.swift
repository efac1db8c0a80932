import SeqboxClient
import SeqboxProtocol

/// `seqbox history`, `seqbox block`, `seqbox unblock`, `seqbox push-register`,
/// `seqbox push-unregister`: one request on a short connection of
/// their own that neither syncs nor sends, so nothing is taken from the mailbox unseen.
enum RequestCommands {
    static let historyHelp = """
    usage: seqbox history --after N [--limit M]

    Prints your mailbox's records after seq N (at most M, default all), oldest first, without
    marking anything as seen. Records deleted by retention are reported as a range.
    Note: it logs in as this device, replacing a `listen` of the same device (in `chat`, type
    /history N instead).
    """

    static let blockHelp = """
    usage: seqbox block U
           seqbox unblock U

    Refuses (or accepts again) messages from user U. Their sends fail with `blocked`.
    Note: it logs in as this device, replacing a `listen` of the same device (in `chat`, type
    /block U instead).
    """

    static let pushHelp = """
    usage: seqbox push-register --platform apns|fcm --push-token TOKEN
           seqbox push-unregister

    Registers (or removes) this device's push token, so the server can wake the device while
    it is offline. TOKEN is hex for apns (the device token's bytes) and the text itself for
    fcm. (--token stays the login token.)
    Note: it logs in as this device, replacing a `listen` of the same device.
    """

    static func history(_ options: CLIOptions) throws(CLIError) {
        var after: UInt32?
        var limit = Int.max
        var index = 0
        while index < options.rest.count {
            guard index + 1 < options.rest.count else { throw CLIError.usage("\(options.rest[index]) needs a value") }
            switch options.rest[index] {
            case "--after": after = try CLIOptions.number(options.rest[index + 1], "--after")
            case "--limit": limit = try CLIOptions.number(options.rest[index + 1], "--limit")
            default: throw CLIError.usage("unexpected \(options.rest[index])")
            }
            index += 2
        }
        guard var cursor = after else { throw CLIError.usage("--after N is required") }
        let user = try options.identity().user
        let client = try ClientFactory.requestClient(options) { event in
            if case .stopped(let reason) = event, reason != .requested { Output.error("(stopped: \(reason))") }
        }
        try ClientFactory.start(client)
        defer { client.stop() }
        var printed = 0
        while printed < limit {
            let outcome = Outcome<Result<HistoryPage, HistoryError>>()
            let pageLimit = UInt16(min(limit - printed, ProtocolConstants.defaultPullLimit))
            do { try client.history(after: cursor, limit: pageLimit) { outcome.settle($0) } } catch { throw CLIError.failed(error.description) }
            guard let result = outcome.wait(seconds: options.timeoutSeconds) else {
                throw CLIError.failed("no answer within \(options.timeoutSeconds) s")
            }
            let page: HistoryPage
            switch result {
            case .success(let value): page = value
            case .failure(let error): throw CLIError.failed("history: \(error)")
            }
            if let first = page.expiredBefore {
                if first > cursor + 1 { Output.line("-- seqs \(cursor + 1)...\(first - 1) expired on the server --") }
                cursor = max(cursor, first - 1)
                if !page.hasMore { break }
                continue
            }
            for message in page.messages.prefix(limit - printed) {
                Output.line(Output.message(message, user: user, withLatency: false))
                printed += 1
            }
            guard page.hasMore, let last = page.messages.last?.seq else { break }
            cursor = last
        }
    }

    static func block(_ options: CLIOptions, blocked: Bool) throws(CLIError) {
        guard options.rest.count == 1 else { throw CLIError.usage("usage: seqbox \(blocked ? "block" : "unblock") U") }
        let target: UInt64 = try CLIOptions.number(options.rest[0], "U")
        let outcome = Outcome<BlockOutcome>()
        let client = try ClientFactory.requestClient(options) { event in
            switch event {
            case .blockChanged(let user, let isBlocked) where user == target: outcome.settle(.changed(blocked: isBlocked))
            case .blockFailed(let user, let code) where user == target: outcome.settle(.refused("\(code)"))
            case .stopped(let reason) where reason != .requested: outcome.settle(.refused("\(reason)"))
            default: break
            }
        }
        try ClientFactory.start(client)
        defer { client.stop() }
        do {
            if blocked { try client.block(target) } else { try client.unblock(target) }
        } catch {
            throw CLIError.failed("\(error)")
        }
        switch outcome.wait(seconds: options.timeoutSeconds) {
        case .changed(let isBlocked)?: Output.line("\(isBlocked ? "blocked" : "unblocked") \(target)")
        case .refused(let reason)?: throw CLIError.failed(reason)
        case nil: throw CLIError.failed("no answer within \(options.timeoutSeconds) s")
        }
    }

    static func push(_ options: CLIOptions, register: Bool) throws(CLIError) {
        var platform: PushPlatform?
        var tokenText: String?
        var index = 0
        while index < options.rest.count {
            guard register, index + 1 < options.rest.count else { throw CLIError.usage("unexpected \(options.rest[index])") }
            switch options.rest[index] {
            case "--platform":
                let name = options.rest[index + 1]
                guard let value = PushPlatform.allCases.first(where: { $0.description == name }) else {
                    throw CLIError.usage("--platform wants apns or fcm, got \(name)")
                }
                platform = value
            case "--push-token": tokenText = options.rest[index + 1]
            default: throw CLIError.usage("unexpected \(options.rest[index])")
            }
            index += 2
        }
        var token: [UInt8] = []
        if register {
            guard let platform else { throw CLIError.usage("--platform apns|fcm is required") }
            guard let tokenText, !tokenText.isEmpty else { throw CLIError.usage("--push-token TOKEN is required") }
            token = platform == .apns ? try CLIOptions.hex(tokenText, "--push-token") : Array(tokenText.utf8)
        }
        let outcome = Outcome<PushOutcome>()
        let client = try ClientFactory.requestClient(options) { event in
            switch event {
            case .pushChanged(let registered): outcome.settle(.changed(registered: registered))
            case .pushFailed(let code): outcome.settle(.refused("\(code)"))
            case .stopped(let reason) where reason != .requested: outcome.settle(.refused("\(reason)"))
            default: break
            }
        }
        try ClientFactory.start(client)
        defer { client.stop() }
        do {
            if register, let platform { try client.registerPush(platform: platform, token: token) } else { try client.unregisterPush() }
        } catch {
            throw CLIError.failed("\(error)")
        }
        switch outcome.wait(seconds: options.timeoutSeconds) {
        case .changed(let registered)?: Output.line(registered ? "push token registered" : "push token unregistered")
        case .refused(let reason)?: throw CLIError.failed(reason)
        case nil: throw CLIError.failed("no answer within \(options.timeoutSeconds) s")
        }
    }
}

/// The answer to a PUSH_REGISTER or PUSH_UNREGISTER.
enum PushOutcome: Sendable {
    case changed(registered: Bool)
    case refused(String)
}

/// The answer to a BLOCK or UNBLOCK.
enum BlockOutcome: Sendable {
    case changed(blocked: Bool)
    case refused(String)
}
