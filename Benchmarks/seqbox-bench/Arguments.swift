/// `--name value` options and `--flag` switches, parsed from the command line.
struct Arguments {
    private(set) var values: [String: String] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positional: [String] = []

    /// Options in `switches` take no value; every other `--name` takes the next argument.
    init(_ arguments: [String], switches: Set<String>) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--") {
                let name = String(argument.dropFirst(2))
                if switches.contains(name) {
                    flags.insert(name)
                } else {
                    guard index + 1 < arguments.count else { throw BenchError("\(argument) needs a value") }
                    values[name] = arguments[index + 1]
                    index += 1
                }
            } else {
                positional.append(argument)
            }
            index += 1
        }
    }

    func has(_ flag: String) -> Bool { flags.contains(flag) }

    func string(_ name: String) -> String? { values[name] }

    func string(_ name: String, default fallback: String) -> String { values[name] ?? fallback }

    func int(_ name: String) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(String(text.filter { $0 != "_" })) else { throw BenchError("--\(name): not an integer: \(text)") }
        return value
    }

    func int(_ name: String, default fallback: Int) throws -> Int { try int(name) ?? fallback }

    func uint64(_ name: String) throws -> UInt64? {
        guard let text = values[name] else { return nil }
        guard let value = UInt64(text) else { throw BenchError("--\(name): not an unsigned integer: \(text)") }
        return value
    }

    func double(_ name: String) throws -> Double? {
        guard let text = values[name] else { return nil }
        guard let value = Double(text) else { throw BenchError("--\(name): not a number: \(text)") }
        return value
    }

    func double(_ name: String, default fallback: Double) throws -> Double { try double(name) ?? fallback }

    func required(_ name: String) throws -> String {
        guard let value = values[name] else { throw BenchError("--\(name) is required") }
        return value
    }

    /// Arguments in the same form, for a child command line.
    static func render(_ options: [(String, String)], flags: [String] = []) -> [String] {
        options.flatMap { ["--" + $0.0, $0.1] } + flags.map { "--" + $0 }
    }
}
