/// The command line of `seqbox-stress`: a subcommand and its options.
struct StressOptions {
    enum Command: String {
        case append, verify
    }

    /// A usage problem: printed with a hint, exit code 2.
    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    static let usage = """
        usage: seqbox-stress append --dir DIR [--users N] [--threads T] [--payload BYTES]
                                    [--seconds S] [--max-messages M] [--segment-bytes B]
                                    [--run ID] [--seed SEED]
               seqbox-stress verify --dir DIR [--acks FILE]

        append   Opens the store in DIR (created if missing) with durability `sync` and appends
                 from T threads to random mailboxes 1...N. Each payload names its own mailbox
                 and client message id ("user=U cmid=C;" then filler derived from C), up to
                 BYTES long. Prints one line per acknowledged append, flushed at once:
                     ack USER SEQ CMID
                 Stops after S seconds or M messages, whichever comes first.
        verify   Opens the store in DIR and checks every mailbox: seqs contiguous from the
                 first retained one, every payload intact and in its own mailbox, no client
                 message id stored twice. With --acks FILE (lines printed by `append`), also
                 checks that every acknowledged append is present with its seq.

        options
          --dir DIR            store directory (required)
          --users N            mailboxes to append to (default 8)
          --threads T          appending threads (default 4)
          --payload BYTES      largest payload; sizes vary up to it (default 256)
          --seconds S          run time limit (default 10)
          --max-messages M     message limit (default: none)
          --segment-bytes B    segment size of a new store (default: the store's)
          --run ID             namespace of client message ids: ID << 32 (default: the pid)
          --seed SEED          random seed for mailboxes and sizes (default: the run id)
          --acks FILE          acknowledgement lines to check (verify)
          -h, --help           this text

        exit status: 0 success, 1 a store error or a failed verification, 2 a usage error
        """

    var command: Command = .append
    var directory = ""
    var users = 8
    var threads = 4
    var payloadBytes = 256
    var seconds = 10.0
    var maxMessages: Int?
    var segmentBytes: Int?
    var run: UInt64?
    var seed: UInt64?
    var acksFile: String?
    var wantsHelp = false

    /// Limits that keep a typo from asking for something absurd.
    static let usersMax = 1 << 20
    static let threadsMax = 256
    static let payloadBytesMax = 1 << 20
    /// Client message ids are run << 32 | thread << 24 | counter.
    static let runMax: UInt64 = (1 << 31) - 1
    static let messagesPerThreadMax = 1 << 24

    static func parse(_ arguments: [String]) throws(UsageError) -> StressOptions {
        var options = StressOptions()
        var remaining = arguments[...]
        if remaining.contains("-h") || remaining.contains("--help") {
            options.wantsHelp = true
            return options
        }
        guard let name = remaining.popFirst() else { throw UsageError(description: "missing command (append or verify)") }
        guard let command = Command(rawValue: name) else { throw UsageError(description: "unknown command '\(name)'") }
        options.command = command
        while let flag = remaining.popFirst() {
            guard let value = remaining.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
            switch flag {
            case "--dir": options.directory = value
            case "--users": options.users = try integer(value, flag, in: 1 ... usersMax)
            case "--threads": options.threads = try integer(value, flag, in: 1 ... threadsMax)
            case "--payload": options.payloadBytes = try integer(value, flag, in: 0 ... payloadBytesMax)
            case "--seconds":
                guard let seconds = Double(value), seconds > 0, seconds.isFinite else { throw UsageError(description: "--seconds needs a positive number, got '\(value)'") }
                options.seconds = seconds
            case "--max-messages": options.maxMessages = try integer(value, flag, in: 1 ... Int.max)
            case "--segment-bytes": options.segmentBytes = try integer(value, flag, in: 1 ... Int(UInt32.max))
            case "--run": options.run = UInt64(try integer(value, flag, in: 0 ... Int(runMax)))
            case "--seed":
                guard let seed = UInt64(value) else { throw UsageError(description: "--seed needs an unsigned integer, got '\(value)'") }
                options.seed = seed
            case "--acks": options.acksFile = value
            default: throw UsageError(description: "unknown option '\(flag)'")
            }
        }
        guard !options.directory.isEmpty else { throw UsageError(description: "--dir is required") }
        if options.command == .append, options.acksFile != nil { throw UsageError(description: "--acks belongs to verify") }
        return options
    }

    private static func integer(_ text: String, _ flag: String, in range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw UsageError(description: "\(flag) needs an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }
}
