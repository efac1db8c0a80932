#if canImport(Glibc)
import Glibc
#endif
import SeqboxStore

/// `seqboxd token --user U --device D [--ttl S] [--data DIR]`: mints a login token with the
/// server's secret (SEQBOX_SECRET, or DATA/secret, created if missing) and returns it as hex,
/// the form a client passes in LOGIN (PROTOCOL.md §8).
public enum TokenCommand {
    /// Default token lifetime: one day.
    public static let defaultTTLSeconds: UInt64 = 86_400

    public static let usage = """
        usage: seqboxd token --user USER --device DEVICE [--ttl SECONDS] [--data DIR]
        Prints a login token for USER on DEVICE, valid for SECONDS (default \(defaultTTLSeconds)), as hex.
        The secret is SEQBOX_SECRET (hex) or DIR/secret (default ./data, or SEQBOX_DATA), created if missing.
        """

    /// The token's hex, or nil for `--help`.
    public static func run(arguments: [String], environment: [String: String], nowSeconds: UInt64) throws(ServerOptions.UsageError) -> String? {
        var user: UInt64?
        var device: UInt64?
        var ttl = defaultTTLSeconds
        var directory = environment["SEQBOX_DATA"].flatMap { $0.isEmpty ? nil : $0 } ?? "./data"
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            if flag == "--help" || flag == "-h" { return nil }
            guard index + 1 < arguments.count else { throw ServerOptions.UsageError("\(flag) needs a value (try --help)") }
            let value = arguments[index + 1]
            switch flag {
            case "--user": user = UInt64(value)
            case "--device": device = UInt64(value)
            case "--ttl":
                guard let seconds = UInt64(value), seconds > 0 else { throw ServerOptions.UsageError("--ttl: expected a positive number of seconds") }
                ttl = seconds
            case "--data": directory = value
            default: throw ServerOptions.UsageError("unknown option \(flag) (try --help)")
            }
            index += 2
        }
        guard let user, user != 0 else { throw ServerOptions.UsageError("--user: expected a user ID above 0") }
        guard let device else { throw ServerOptions.UsageError("--device: expected a device ID") }
        let secret: [UInt8]
        do {
            if environment[ServerSecret.environmentVariable]?.isEmpty ?? true { try ServerRunner.createDirectory(directory) }
            secret = try ServerSecret.load(dataDirectory: directory, environment: environment).secret
        } catch {
            throw ServerOptions.UsageError("token secret: \(error)")
        }
        let (expiry, overflow) = nowSeconds.addingReportingOverflow(ttl)
        let token = TokenAuthority(secret: secret).mint(user: user, device: device, expiresAtSeconds: overflow ? UInt64.max : expiry)
        return ServerSecret.encodeHex(token.bytes)
    }
}
