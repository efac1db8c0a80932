/// One command-line flag a tool accepts.
public struct FlagSpec: Sendable {
    /// The long name without dashes (`repair` for `--repair`).
    public let name: String
    /// The placeholder of its value (`N`, `USER`), or nil for a switch.
    public let valueName: String?
    public let help: String

    public init(_ name: String, value valueName: String? = nil, help: String) {
        self.name = name
        self.valueName = valueName
        self.help = help
    }
}

/// The parsed command line: positional arguments, switches and flag values.
public struct ParsedArguments: Sendable {
    public var positionals: [String] = []
    public var values: [String: String] = [:]
    public var switches: Set<String> = []

    public func has(_ name: String) -> Bool { switches.contains(name) || values[name] != nil }
    public func value(_ name: String) -> String? { values[name] }

    /// The flag's value as an unsigned integer in `range`, nil when the flag is absent.
    public func unsigned(_ name: String, in range: ClosedRange<UInt64> = 0 ... UInt64.max) throws(UnusableInput) -> UInt64? {
        guard let text = values[name] else { return nil }
        guard let number = UInt64(text), range.contains(number) else {
            throw UnusableInput("--\(name): expected a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return number
    }

    /// The one positional argument, the store directory, without trailing slashes ("/" stays).
    public func storeDirectory() throws(UnusableInput) -> String {
        guard positionals.count == 1 else {
            throw UnusableInput(positionals.isEmpty ? "missing the store directory (see --help)" : "expected one store directory, got \(positionals.count)")
        }
        var path = positionals[0]
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }
}

/// A small hand-written parser: `--name`, `--name VALUE`, `--name=VALUE`, `-h`, and `--` to end
/// the flags. Unknown flags, missing values and values given to switches are errors.
public enum ArgumentParser {
    public static func parse(_ arguments: [String], flags: [FlagSpec]) throws(UnusableInput) -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        var flagsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if flagsEnded || !argument.hasPrefix("-") || argument == "-" {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                flagsEnded = true
                continue
            }
            if argument == "-h" {
                parsed.switches.insert("help")
                continue
            }
            guard argument.hasPrefix("--") else { throw UnusableInput("unknown option '\(argument)' (see --help)") }
            let body = argument.dropFirst(2)
            let name: String
            var inlineValue: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                inlineValue = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
            }
            guard let spec = flags.first(where: { $0.name == name }) else {
                throw UnusableInput("unknown option '--\(name)' (see --help)")
            }
            if spec.valueName == nil {
                guard inlineValue == nil else { throw UnusableInput("--\(name) takes no value") }
                parsed.switches.insert(name)
                continue
            }
            if let inlineValue {
                parsed.values[name] = inlineValue
            } else {
                guard index < arguments.count else { throw UnusableInput("--\(name) needs a value \(spec.valueName!)") }
                parsed.values[name] = arguments[index]
                index += 1
            }
        }
        return parsed
    }

    /// The `--help` text: usage line, description, then every flag with its help.
    public static func help(usage: String, description: String, flags: [FlagSpec], footer: String = "") -> String {
        var text = "usage: \(usage)\n\n\(description)\n\noptions:\n"
        let labels = flags.map { "--\($0.name)" + ($0.valueName.map { " \($0)" } ?? "") }
        let width = (labels.map(\.count).max() ?? 0) + 2
        for (label, flag) in zip(labels, flags) {
            var lines = flag.help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let first = lines.removeFirst()
            text += "  " + label + String(repeating: " ", count: width - label.count) + first + "\n"
            for line in lines { text += String(repeating: " ", count: width + 2) + line + "\n" }
        }
        if !footer.isEmpty { text += "\n" + footer + (footer.hasSuffix("\n") ? "" : "\n") }
        return text
    }
}
