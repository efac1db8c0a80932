#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

/// A real seqboxd and a chaos-proxy in front of it, each a child process over a temporary
/// directory, for the tests that need the real server. Both are stopped by PID.
final class ServerAndProxy {
    /// The token secret the server runs with (hex, SEQBOX_SECRET).
    static let secret = "5365716278207765616b2d6e6574776f726b2070726f6f66"
    static let startSeconds = 30.0

    let directory: String
    let serverBinary = ChildProcess.builtProduct("seqboxd")
    let proxyBinary = ChildProcess.builtProduct("chaos-proxy")
    let clientBinary = ChildProcess.builtProduct("seqbox")
    private(set) var server: ChildProcess?
    private(set) var proxy: ChildProcess?
    private(set) var serverPort: UInt16 = 0
    private(set) var proxyPort: UInt16 = 0
    private var serverStarts = 0
    let serverArguments: [String]

    init(directory: String, serverArguments: [String] = []) {
        self.directory = directory
        self.serverArguments = serverArguments
    }

    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("SEQBOX_") { environment[key] = nil }
        environment["SEQBOX_SECRET"] = ServerAndProxy.secret
        return environment
    }

    /// Fails (not skips) when a binary is missing: the proof needs them built.
    func requireBinaries(_ names: [String] = ["seqboxd", "chaos-proxy"]) throws {
        for name in names {
            let path = ChildProcess.builtProduct(name)
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw ProofError("\(name) is not built at \(path): run `swift build` (make test builds every product) first")
            }
        }
    }

    /// Starts seqboxd (on `port`, or any free port the first time) and waits until it listens.
    func startServer(port: UInt16? = nil) throws {
        let portFile = directory + "/server.port"
        try? FileManager.default.removeItem(atPath: portFile)
        serverStarts += 1
        let server = try ChildProcess(
            name: "seqboxd", executable: serverBinary,
            arguments: ["serve", "--data", directory + "/data", "--port", String(port ?? 0), "--port-file", portFile] + serverArguments,
            environment: environment, logPath: directory + "/server-\(serverStarts).log")
        self.server = server
        serverPort = try waitForPort(file: portFile, process: server)
    }

    /// SIGKILL: the server dies between two instructions, nothing flushed, nothing said.
    func killServer() {
        server?.stop(signal: SIGKILL)
    }

    /// Starts the proxy in front of the server with `faults` (chaos-proxy flags).
    func startProxy(faults: [String], seed: UInt64, durationSeconds: Int) throws {
        let portFile = directory + "/proxy.port"
        let proxy = try ChildProcess(
            name: "chaos-proxy", executable: proxyBinary,
            arguments: ["--upstream", "127.0.0.1:\(serverPort)", "--listen", "127.0.0.1:0", "--port-file", portFile,
                        "--seed", String(seed), "--duration-s", String(durationSeconds)] + faults,
            environment: environment, logPath: directory + "/proxy.log")
        self.proxy = proxy
        proxyPort = try waitForPort(file: portFile, process: proxy)
    }

    /// A login token for (user, device), minted by `seqboxd token` with the server's secret.
    func token(user: UInt64, device: UInt64) throws -> [UInt8] {
        let result = try ChildProcess.output(of: serverBinary, arguments: ["token", "--user", String(user), "--device", String(device),
                                                                             "--data", directory + "/data"],
                                             environment: environment)
        let text = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, let bytes = ServerAndProxy.hexBytes(text) else {
            throw ProofError("seqboxd token failed (\(result.status)): \(result.output)")
        }
        return bytes
    }

    /// Stops the proxy (SIGTERM, by PID) and returns its fault counts, e.g. ["resets": 12].
    func stopProxy() -> [String: Int] {
        proxy?.stop(signal: SIGTERM, seconds: 5)
        return ServerAndProxy.faultCounts(in: proxy?.log ?? "")
    }

    /// The counts of the proxy's "chaos-proxy done: name=value …" line.
    static func faultCounts(in log: String) -> [String: Int] {
        guard let line = log.split(separator: "\n").last(where: { $0.hasPrefix("chaos-proxy done:") }) else { return [:] }
        var counts: [String: Int] = [:]
        for field in line.split(separator: " ") {
            let parts = field.split(separator: "=")
            if parts.count == 2, let value = Int(parts[1]) { counts[String(parts[0])] = value }
        }
        return counts
    }

    /// Stops both processes by PID.
    func stopAll() {
        proxy?.stop(signal: SIGTERM, seconds: 2)
        server?.stop(signal: SIGTERM, seconds: 10)
    }

    var logs: String {
        "server log tail:\n\(server?.log.suffix(3_000) ?? "")\nproxy log:\n\(proxy?.log.suffix(2_000) ?? "")"
    }

    private func waitForPort(file: String, process: ChildProcess) throws -> UInt16 {
        let deadline = Date().addingTimeInterval(ServerAndProxy.startSeconds)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: file, encoding: .utf8),
               let port = UInt16(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return port
            }
            guard process.isRunning else { throw ProofError("\(process.name) exited at start:\n\(process.log)") }
            usleep(10_000)
        }
        process.stop(signal: SIGKILL)
        throw ProofError("\(process.name) did not listen within \(ServerAndProxy.startSeconds) s:\n\(process.log)")
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0, !digits.isEmpty else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index ..< index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}

/// A failure of the proof's setup or checks, with its explanation.
struct ProofError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
