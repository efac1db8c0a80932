// seqboxd: the Seqbox messaging server (`serve`, the default) and its token minting (`token`).
// Everything runs inside functions of SeqboxServer; top-level code only dispatches.
#if canImport(Glibc)
import Glibc
#endif
import SeqboxServer
import SeqboxStore

/// Runs the subcommand named by `arguments[1]` and returns the exit status.
func seqboxdMain(arguments: [String], environment: [String: String]) -> Int32 {
    var rest = Array(arguments.dropFirst())
    let command = rest.first.flatMap { $0.hasPrefix("-") ? nil : $0 } ?? "serve"
    if rest.first == command { rest.removeFirst() }
    switch command {
    case "serve":
        do {
            guard let options = try ServerOptions.parse(arguments: rest, environment: environment) else {
                print(ServerOptions.usage)
                return 0
            }
            return ServerRunner.run(options: options, environment: environment)
        } catch {
            printError("seqboxd: \(error)")
            return ServerRunner.exitUsage
        }
    case "token":
        do {
            guard let token = try TokenCommand.run(arguments: rest, environment: environment, nowSeconds: wallClockMilliseconds() / 1000) else {
                print(TokenCommand.usage)
                return 0
            }
            print(token)
            return 0
        } catch {
            printError("seqboxd token: \(error)")
            return ServerRunner.exitUsage
        }
    case "help":
        print(ServerOptions.usage)
        return 0
    default:
        printError("seqboxd: unknown command \(command) (try --help)")
        return ServerRunner.exitUsage
    }
}

func printError(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

/// The process environment as a dictionary.
func processEnvironment() -> [String: String] {
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

exit(seqboxdMain(arguments: CommandLine.arguments, environment: processEnvironment()))
