#if canImport(Glibc)
import Glibc
#endif
import SeqboxSystem

/// A `seqboxd serve` the benchmark starts: the binary next to its own executable (the same
/// `.build/<config>/` directory), an ephemeral loopback port read back from `--port-file`, a
/// fresh data directory, the token secret in `SEQBOX_SECRET`, no per-sender rate limit.
final class SeqboxServerProcess {
    static let startTimeoutSeconds = 30.0
    /// The flags every benchmark server gets (before the operator's `--seqboxd-args`).
    static func arguments(directory: String) -> [String] {
        ["serve", "--data", directory + "/data", "--port", "0", "--port-file", directory + "/port",
         "--send-rate", "0", "--log-level", "warning"]
    }

    let process: ServiceProcess
    let address: IPv4SocketAddress
    let arguments: [String]

    init(executable: String, directory: String, secret: [UInt8], extraArguments: [String]) throws {
        try FileTree.createDirectory(directory)
        arguments = Self.arguments(directory: directory) + extraArguments
        process = try ServiceProcess(name: "seqboxd", executable: executable, arguments: arguments,
                                     environment: Self.environment(secret: secret), logPath: directory + "/seqboxd.log")
        let deadline = Clock.nanoseconds() + UInt64(Self.startTimeoutSeconds * 1e9)
        while true {
            if let text = readTextFile(directory + "/port"), let port = UInt16(text.filter(\.isNumber)) {
                address = try IPv4SocketAddress(host: "127.0.0.1", port: port)
                return
            }
            guard process.isRunning else { throw BenchError("seqboxd exited at start:\n\(process.logTail())") }
            guard Clock.nanoseconds() < deadline else {
                process.stop()
                throw BenchError("seqboxd did not listen within \(Self.startTimeoutSeconds) s:\n\(process.logTail())")
            }
            Clock.sleep(seconds: 0.01)
        }
    }

    func stop() { process.stop() }

    /// `seqboxd` in the directory of this executable.
    static func executablePath() throws -> String {
        let own = ProcessMetrics.executablePath()
        let path = String(own[..<(own.lastIndex(of: "/") ?? own.startIndex)]) + "/seqboxd"
        guard access(path, X_OK) == 0 else {
            throw BenchError("seqboxd is not built next to seqbox-bench (\(path)): build it with `swift build` (or `swift build -c release`) first")
        }
        return path
    }

    /// This process's environment without SEQBOX_* settings, plus the secret.
    static func environment(secret: [UInt8]) -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "="), !text.hasPrefix("SEQBOX_") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        result["SEQBOX_SECRET"] = LoginTokenMinter.hex(secret)
        return result
    }

    /// Runs `seqboxd token` once with `secret` and returns the token's bytes (the self-check
    /// compares it with the benchmark's own minting).
    static func mintWithServer(executable: String, secret: [UInt8], user: UInt64, device: UInt64, directory: String) throws -> [UInt8] {
        let log = directory + "/token.out"
        let child = try ServiceProcess(name: "seqboxd token", executable: executable,
                                       arguments: ["token", "--user", "\(user)", "--device", "\(device)", "--data", directory + "/token-data"],
                                       environment: environment(secret: secret), logPath: log)
        let deadline = Clock.nanoseconds() + 20_000_000_000
        while child.isRunning && Clock.nanoseconds() < deadline { Clock.sleep(seconds: 0.005) }
        child.stop(gracefulSeconds: 1)
        let output = (readTextFile(log) ?? "").split(separator: "\n").last.map(String.init) ?? ""
        guard let bytes = LoginTokenMinter.bytes(hex: output) else { throw BenchError("seqboxd token printed no token: \(output)") }
        return bytes
    }
}
