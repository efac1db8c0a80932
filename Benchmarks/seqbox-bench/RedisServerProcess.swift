#if canImport(Glibc)
import Glibc
#endif
import SeqboxSystem

/// A `redis-server` the benchmark starts and stops: Debian's binary from PATH, on 127.0.0.1
/// at a free port, in its own directory, with no RDB snapshots (`--save ""`) and the AOF on
/// with the given `appendfsync` policy; otherwise Redis's defaults.
final class RedisServerProcess {
    static let startTimeoutSeconds = 20.0
    /// Attempts at a free port (another process may take the one picked before Redis binds it).
    static let portAttempts = 3
    /// Client connections beyond the benchmark's own (control connections).
    static let spareClients = 32

    let process: ServiceProcess
    let address: IPv4SocketAddress
    let arguments: [String]
    let version: String

    init(directory: String, appendfsync: String, connections: Int, executable: String? = nil) throws {
        guard let binary = executable ?? ServiceProcess.findOnPath("redis-server") else {
            throw BenchError("redis-server is not on PATH: install Debian's redis-server package (`make deps` does) or pass --redis-server PATH")
        }
        try FileTree.createDirectory(directory)
        var lastError = ""
        for attempt in 1 ... Self.portAttempts {
            let port = try LoadSockets.freeLoopbackPort()
            let arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory, "--save", "",
                             "--appendonly", "yes", "--appendfsync", appendfsync, "--daemonize", "no",
                             "--maxclients", "\(connections + Self.spareClients)", "--logfile", ""]
            let process = try ServiceProcess(name: "redis-server", executable: binary, arguments: arguments, environment: nil,
                                             logPath: directory + "/redis-\(attempt).log")
            let address = try IPv4SocketAddress(host: "127.0.0.1", port: port)
            let connector = RedisConnector(address: address)
            let deadline = Clock.nanoseconds() + UInt64(Self.startTimeoutSeconds * 1e9)
            while process.isRunning && Clock.nanoseconds() < deadline {
                if let reply = try? connector.command(["PING"]), reply == .simple("PONG") {
                    self.process = process
                    self.address = address
                    self.arguments = arguments
                    version = Self.version(connector)
                    return
                }
                Clock.sleep(seconds: 0.02)
            }
            lastError = process.logTail()
            process.stop()
        }
        throw BenchError("redis-server did not start:\n\(lastError)")
    }

    func stop() { process.stop() }

    /// `redis_version` from INFO server.
    private static func version(_ connector: RedisConnector) -> String {
        guard case .bulk(let bytes)? = try? connector.command(["INFO", "server"]) else { return "unknown" }
        // Split on bytes: Swift reads "\r\n" as one Character.
        let lines = bytes.split(whereSeparator: { $0 == 13 || $0 == 10 }).map { String(decoding: $0, as: UTF8.self) }
        let line = lines.first { $0.hasPrefix("redis_version:") }
        return line.map { String($0.dropFirst("redis_version:".count)) } ?? "unknown"
    }
}
