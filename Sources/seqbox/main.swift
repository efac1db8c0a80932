// seqbox: the command-line client, built on the SeqboxClient library. Top-level code only
// dispatches; each command lives in its own type.
#if canImport(Glibc)
import Glibc
#endif

enum SeqboxCommand {
    static let help = """
    usage: seqbox COMMAND [options]

    commands:
      send --to U TEXT      send a message and wait for the server to store it
      listen                print messages as they arrive, with seq and delivery latency
      chat --with U         listen, and send each line you type to U
      history --after N     print the records after seq N
      block U, unblock U    refuse or accept messages from U again
      push-register --platform apns|fcm --push-token TOKEN
      push-unregister       register (or remove) this device's offline-push token

    `seqbox COMMAND --help` tells more.

    """ + CLIOptions.help

    static func main(arguments: [String], environment: [String: String]) -> Int32 {
        guard let command = arguments.first, command != "--help", command != "-h", command != "help" else {
            Output.line(help)
            return arguments.isEmpty ? 2 : 0
        }
        let rest = Array(arguments.dropFirst())
        let commandHelp: String
        switch command {
        case "send": commandHelp = SendCommand.help
        case "listen": commandHelp = ListenCommand.listenHelp
        case "chat": commandHelp = ListenCommand.chatHelp
        case "history": commandHelp = RequestCommands.historyHelp
        case "block", "unblock": commandHelp = RequestCommands.blockHelp
        case "push-register", "push-unregister": commandHelp = RequestCommands.pushHelp
        default:
            Output.error("seqbox: unknown command \(command) (try seqbox --help)")
            return 2
        }
        if rest.contains("--help") || rest.contains("-h") {
            Output.line(commandHelp + "\n\n" + CLIOptions.help)
            return 0
        }
        do throws(CLIError) {
            let options = try CLIOptions.parse(rest, environment: environment)
            switch command {
            case "send": try SendCommand.run(options)
            case "listen": try ListenCommand.run(options, chatWith: nil)
            case "chat": try runChat(options)
            case "history": try RequestCommands.history(options)
            case "block": try RequestCommands.block(options, blocked: true)
            case "push-register": try RequestCommands.push(options, register: true)
            case "push-unregister": try RequestCommands.push(options, register: false)
            default: try RequestCommands.block(options, blocked: false)
            }
            return 0
        } catch {
            switch error {
            case .usage(let message):
                Output.error("seqbox \(command): \(message) (try seqbox \(command) --help)")
                return 2
            case .failed(let message):
                Output.error("seqbox \(command): \(message)")
                return 1
            }
        }
    }

    private static func runChat(_ options: CLIOptions) throws(CLIError) {
        var options = options
        guard let index = options.rest.firstIndex(of: "--with"), index + 1 < options.rest.count else {
            throw CLIError.usage("--with U is required")
        }
        let peer: UInt64 = try CLIOptions.number(options.rest[index + 1], "--with")
        options.rest.removeSubrange(index ... index + 1)
        try ListenCommand.run(options, chatWith: peer)
    }

    /// The process environment as a dictionary.
    static func environment() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }
}

exit(SeqboxCommand.main(arguments: Array(CommandLine.arguments.dropFirst()), environment: SeqboxCommand.environment()))
