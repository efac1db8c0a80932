#if canImport(Glibc)
import Glibc
#endif

/// The options every command shares: identity and server, from flags or the environment
/// (flags win).
struct CLIOptions {
    static let defaultServer = "127.0.0.1:7420"
    static let defaultTimeoutSeconds = 30

    var host = "127.0.0.1"
    var port: UInt16 = 7420
    var user: UInt64?
    var device: UInt64 = 1
    var token: [UInt8]?
    var statePath: String?
    var fullHistory = false
    var timeoutSeconds = CLIOptions.defaultTimeoutSeconds
    /// Arguments that are not shared options, in order (the command's own).
    var rest: [String] = []

    static let help = """
    identity and server (flags, or the environment variable in brackets):
      --server HOST:PORT   the server (default \(defaultServer))      [SEQBOX_SERVER]
      --user U             your user ID                               [SEQBOX_USER]
      --device D           this device's ID (default 1)               [SEQBOX_DEVICE]
      --token HEX          login token from `seqboxd token`           [SEQBOX_TOKEN]
      --state FILE         where this device keeps its held seq and unsent messages
                           (default ./seqbox-U-D.state)               [SEQBOX_STATE]
      --full-history       a device seen for the first time starts at the oldest message
                           instead of the first one no other device of yours has seen
      --timeout-s S        how long a command waits for the server's answer
                           (default \(defaultTimeoutSeconds))
      --help               help for the command
    """

    /// Parses the shared options out of `arguments`, over `environment`.
    static func parse(_ arguments: [String], environment: [String: String]) throws(CLIError) -> CLIOptions {
        var options = CLIOptions()
        if let server = environment["SEQBOX_SERVER"], !server.isEmpty { try options.setServer(server) }
        if let user = environment["SEQBOX_USER"], !user.isEmpty { options.user = try number(user, "SEQBOX_USER") }
        if let device = environment["SEQBOX_DEVICE"], !device.isEmpty { options.device = try number(device, "SEQBOX_DEVICE") }
        if let token = environment["SEQBOX_TOKEN"], !token.isEmpty { options.token = try hex(token, "SEQBOX_TOKEN") }
        if let state = environment["SEQBOX_STATE"], !state.isEmpty { options.statePath = state }
        var index = 0
        func value(_ flag: String) throws(CLIError) -> String {
            guard index + 1 < arguments.count else { throw CLIError.usage("\(flag) needs a value") }
            index += 1
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--server": try options.setServer(try value(argument))
            case "--user": options.user = try number(try value(argument), argument)
            case "--device": options.device = try number(try value(argument), argument)
            case "--token": options.token = try hex(try value(argument), argument)
            case "--state": options.statePath = try value(argument)
            case "--full-history": options.fullHistory = true
            case "--timeout-s":
                options.timeoutSeconds = Int(try number(try value(argument), argument) as UInt64)
            default: options.rest.append(argument)
            }
            index += 1
        }
        return options
    }

    /// The user, token and state path, or the usage error naming what is missing.
    func identity() throws(CLIError) -> (user: UInt64, token: [UInt8], statePath: String) {
        guard let user, user != 0 else { throw CLIError.usage("--user (or SEQBOX_USER) is required") }
        guard let token else { throw CLIError.usage("--token (or SEQBOX_TOKEN) is required; mint one with `seqboxd token --user \(user) --device \(device)`") }
        return (user, token, statePath ?? "./seqbox-\(user)-\(device).state")
    }

    private mutating func setServer(_ text: String) throws(CLIError) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), colon != text.startIndex else {
            throw CLIError.usage("--server wants HOST:PORT, got \(text)")
        }
        host = String(text[..<colon])
        self.port = port
    }

    static func number<T: FixedWidthInteger>(_ text: String, _ name: String) throws(CLIError) -> T {
        guard let value = T(text) else { throw CLIError.usage("\(name) wants a number, got \(text)") }
        return value
    }

    static func hex(_ text: String, _ name: String) throws(CLIError) -> [UInt8] {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { throw CLIError.usage("\(name) is not hex") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { throw CLIError.usage("\(name) is not hex") }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A command's failure: a usage mistake (exit 2) or a failed operation (exit 1).
enum CLIError: Error {
    case usage(String)
    case failed(String)
}
