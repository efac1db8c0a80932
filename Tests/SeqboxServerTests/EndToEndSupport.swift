#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxProtocol
import XCTest
import SeqboxServer

/// A real `seqboxd` process for end-to-end tests: built next to the test bundle (or named by
/// `SEQBOX_SERVER_BINARY`), started on an ephemeral loopback port with a temporary data
/// directory and a known token secret, and always stopped by PID.
final class ServerProcess {
    /// The token secret every test server runs with (hex in SEQBOX_SECRET).
    static let secret = Array("end-to-end-test-secret-32-bytes!".utf8)
    static let tokens = TokenAuthority(secret: ServerProcess.secret)
    /// Longest wait for a server to start listening or to exit, in seconds.
    static let startTimeout: Double = 20
    static let exitTimeout: Double = 20

    let dataDirectory: String
    let arguments: [String]
    private(set) var process: Process?
    private(set) var port: UInt16 = 0
    private var logPath: String
    private var starts = 0
    /// Distinguishes the side files of two servers over one data directory.
    private let instance = UUID().uuidString.prefix(8)

    /// A server (not yet started) over `dataDirectory`, with extra flags.
    init(dataDirectory: String, arguments: [String] = []) {
        self.dataDirectory = dataDirectory
        self.arguments = arguments
        self.logPath = dataDirectory + "-log.txt"
    }

    /// The seqboxd binary.
    static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["SEQBOX_SERVER_BINARY"], !path.isEmpty { return path }
        let bundle = Bundle(for: ServerProcess.self).bundleURL
        for directory in [bundle.deletingLastPathComponent(), URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()] {
            let candidate = directory.appendingPathComponent("seqboxd").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return bundle.deletingLastPathComponent().appendingPathComponent("seqboxd").path
    }

    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment[ServerSecret.environmentVariable] = ServerSecret.encodeHex(secret)
        for key in environment.keys where key.hasPrefix("SEQBOX_") && key != ServerSecret.environmentVariable { environment[key] = nil }
        return environment
    }

    /// Starts the server and waits until it listens.
    func start() throws {
        precondition(process == nil, "already running")
        let portFile = dataDirectory + "-port"
        try? FileManager.default.removeItem(atPath: portFile)
        logPath = dataDirectory + "-log-\(instance)-\(starts).txt"
        starts += 1
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerProcess.binaryPath)
        process.arguments = ["serve", "--data", dataDirectory, "--port", "0", "--port-file", portFile, "--log-level", "debug"] + arguments
        process.environment = ServerProcess.environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(ServerProcess.startTimeout)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = UInt16(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                self.port = port
                return
            }
            guard process.isRunning else { throw ProtocolTestClientError.unexpected("seqboxd exited at start: \(logText)") }
            usleep(10_000)
        }
        kill(signal: SIGKILL)
        throw ProtocolTestClientError.timeout("seqboxd to listen: \(logText)")
    }

    var isRunning: Bool { process?.isRunning ?? false }
    var pid: Int32 { process?.processIdentifier ?? 0 }

    /// Sends `signal` to the server's PID and waits for it to exit; returns its exit status
    /// (nil if it had to be killed after the timeout).
    @discardableResult
    func kill(signal: Int32, timeout: Double = ServerProcess.exitTimeout) -> Int32? {
        guard let process else { return nil }
        defer { self.process = nil }
        if process.isRunning { Glibc.kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Everything the current (or last) run logged.
    var logText: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// A connected client that completed HELLO.
    func client(receiveBufferBytes: Int32? = nil) throws -> ProtocolTestClient {
        let client = try ProtocolTestClient.connect(port: port, receiveBufferBytes: receiveBufferBytes)
        guard case .helloOK = try client.hello() else { throw ProtocolTestClientError.unexpected("no HELLO_OK") }
        return client
    }

    /// A client logged in as `user` on `device`, with its LOGIN_OK.
    func loggedIn(user: UInt64, device: UInt64 = 1, fullHistory: Bool = false) throws -> (ProtocolTestClient, Frame.LoginOK) {
        let client = try self.client()
        let reply = try client.login(user: user, device: device, token: ServerProcess.token(user: user, device: device), fullHistory: fullHistory)
        guard case .loginOK(let ok) = reply else { throw ProtocolTestClientError.unexpected("LOGIN answered \(reply)") }
        return (client, ok)
    }

    static func token(user: UInt64, device: UInt64, validFor seconds: Int64 = 3600) -> [UInt8] {
        let expiry = Int64(Date().timeIntervalSince1970) + seconds
        return tokens.mint(user: user, device: device, expiresAtSeconds: UInt64(max(0, expiry))).bytes
    }

    /// Removes the data directory and the run's side files.
    func removeFiles() {
        let parent = (dataDirectory as NSString).deletingLastPathComponent
        let base = (dataDirectory as NSString).lastPathComponent
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where name.hasPrefix(base) {
            try? FileManager.default.removeItem(atPath: parent + "/" + name)
        }
    }
}

/// Base class of the end-to-end suites: one server per test, killed by PID in tearDown.
class EndToEndTestCase: XCTestCase {
    var server: ServerProcess!
    /// Processes the server depends on (e.g. the storage nodes behind a gateway), started by
    /// `makeServer`, killed by PID in tearDown.
    var supportingProcesses: [ServerProcess] = []

    /// Flags of the server each test starts with (subclasses override).
    var serverArguments: [String] { ["--send-rate", "0"] }

    /// The server the test talks to, not yet started, over `directory` with `arguments`. The
    /// launcher hook: subclasses override it to start what the server depends on first
    /// (registering it in `supportingProcesses`), e.g. storage nodes behind a gateway.
    func makeServer(directory: String, arguments: [String]) throws -> ServerProcess {
        ServerProcess(dataDirectory: directory, arguments: arguments)
    }

    override func setUpWithError() throws {
        let directory = NSTemporaryDirectory() + "seqbox-e2e-\(UUID().uuidString)"
        server = try makeServer(directory: directory, arguments: serverArguments)
        try server.start()
    }

    override func tearDown() {
        if let server {
            if server.isRunning { server.kill(signal: SIGKILL) }
            server.removeFiles()
        }
        server = nil
        for process in supportingProcesses {
            if process.isRunning { process.kill(signal: SIGKILL) }
            process.removeFiles()
        }
        supportingProcesses = []
    }

    /// Sends `count` messages from `sender` to `recipient` (pipelined) and returns the SEND_OKs.
    @discardableResult
    func send(_ count: Int, from client: ProtocolTestClient, to recipient: UInt64, firstID: UInt64 = 1, body: (Int) -> [UInt8] = { Array("message \($0)".utf8) }) throws -> [Frame.SendOK] {
        var results: [Frame.SendOK] = []
        var index = 0
        while index < count {
            let window = min(32, count - index)
            let ids = try (0 ..< window).map { offset in
                try client.send(.send(Frame.Send(to: recipient, clientMessageID: firstID + UInt64(index + offset), body: body(index + offset))))
            }
            for id in ids {
                let reply = try client.reply(to: id)
                guard case .sendOK(let ok) = reply else { throw ProtocolTestClientError.unexpected("SEND answered \(reply)") }
                results.append(ok)
            }
            index += window
        }
        return results
    }

    /// Checks the server still serves: a fresh pair of users exchanges a message.
    func assertServerStillServes(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(server.isRunning, "seqboxd exited: \(server.logText.suffix(2000))", file: file, line: line)
        do {
            let sender = UInt64.random(in: 1_000_000 ..< 2_000_000)
            let (alice, _) = try server.loggedIn(user: sender)
            let (bob, _) = try server.loggedIn(user: sender + 1_000_000)
            let ok = try send(1, from: alice, to: sender + 1_000_000)
            XCTAssertEqual(try bob.waitForNotify(atLeast: ok[0].seq).newestSeq, ok[0].seq, file: file, line: line)
            XCTAssertEqual(try bob.pullAll(after: 0).map(\.body), [Array("message 0".utf8)], file: file, line: line)
        } catch {
            XCTFail("server no longer serves: \(error)", file: file, line: line)
        }
    }
}
