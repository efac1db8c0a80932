#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxProtocol
import XCTest
import SeqboxServer

/// seqboxd as an operator meets it: --help, token minting, log lines, exit codes.
class EndToEndOperabilityTests: EndToEndTestCase {
    /// Runs seqboxd with `arguments` to completion; returns (status, stdout, stderr).
    func runCommand(_ arguments: [String], environment: [String: String] = ServerProcess.environment) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerProcess.binaryPath)
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let deadline = Date().addingTimeInterval(ServerProcess.exitTimeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, out, err)
    }

    func testHelpDescribesFlagsEnvironmentAndTokens() throws {
        let (status, output, _) = try runCommand(["--help"])
        XCTAssertEqual(status, 0)
        for text in ["--listen", "--port", "--data", "--durability", "--log-level", "--send-rate", "SEQBOX_SECRET", "seqboxd token"] {
            XCTAssertTrue(output.contains(text), "--help lacks \(text)")
        }
    }

    func testUnknownFlagExitsWithUsageStatus() throws {
        let (status, _, errors) = try runCommand(["--no-such-flag"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(errors.contains("--no-such-flag"))
    }

    func testTokenSubcommandMintsATokenTheRunningServerAccepts() throws {
        let (status, output, _) = try runCommand(["token", "--user", "4242", "--device", "3", "--ttl", "600"])
        XCTAssertEqual(status, 0)
        let token = try XCTUnwrap(ServerSecret.decodeHex(output.trimmingCharacters(in: .whitespacesAndNewlines)))
        let client = try server.client()
        guard case .loginOK = try client.login(user: 4242, device: 3, token: token) else { return XCTFail("token refused") }
        let other = try server.client()
        XCTAssertEqual(expectError(try other.login(user: 4242, device: 4, token: token))?.code, .authFailed)
    }

    func testLogHasOneLinePerLifecycleEvent() throws {
        let (client, _) = try server.loggedIn(user: 1)
        client.close()
        XCTAssertEqual(server.kill(signal: SIGTERM), 0)
        let lines = server.logText.split(separator: "\n")
        for event in ["starting", "secret_loaded", "recovery", "listening", "shutdown_begin", "store_closed", "shutdown_complete"] {
            XCTAssertEqual(lines.filter { $0.contains("event=\(event) ") || $0.hasSuffix("event=\(event)") }.count, 1, "event=\(event)")
        }
        let listening = try XCTUnwrap(lines.first { $0.contains("event=listening") })
        XCTAssertTrue(listening.contains("address=127.0.0.1:\(server.port)"), String(listening))
        XCTAssertTrue(lines.allSatisfy { $0.contains(" level=") && $0.contains(" event=") }, "every line has a level and an event")
    }

    func testSecondServerOnTheSameDataDirectoryRefusesToStart() throws {
        let second = ServerProcess(dataDirectory: server.dataDirectory, arguments: serverArguments)
        XCTAssertThrowsError(try second.start())
        second.kill(signal: SIGKILL)
        XCTAssertTrue(server.isRunning)
        assertServerStillServes()
    }
}
