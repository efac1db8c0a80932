#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

/// seqboxd as an operator meets it (`EndToEndOperabilityTests`), with a gateway and two storage
/// nodes: the same commands and exit codes, each role's own lifecycle log lines.
final class ClusterOperabilityTests: EndToEndOperabilityTests {
    override func makeServer(directory: String, arguments: [String]) throws -> ServerProcess {
        try ClusterLauncher.makeGateway(for: self, directory: directory, arguments: arguments)
    }

    /// How many lines of each event `log` has.
    func eventCounts(_ log: String, _ events: [String]) -> [String: Int] {
        let lines = log.split(separator: "\n")
        var counts: [String: Int] = [:]
        for event in events { counts[event] = lines.filter { $0.contains("event=\(event) ") || $0.hasSuffix("event=\(event)") }.count }
        return counts
    }

    /// Gateway: one line per lifecycle event (one storage_connected per node); storage node: the
    /// embedded server's store events; both exit 0 on SIGTERM.
    override func testLogHasOneLinePerLifecycleEvent() throws {
        let (client, _) = try server.loggedIn(user: 1)
        client.close()
        XCTAssertEqual(server.kill(signal: SIGTERM), 0)
        let gatewayEvents = ["starting", "secret_loaded", "storage_configured", "listening", "shutdown_begin", "storage_clients_stopped", "shutdown_complete"]
        var expected = Dictionary(uniqueKeysWithValues: gatewayEvents.map { ($0, 1) })
        expected["storage_connected"] = ClusterLauncher.nodeCount
        XCTAssertEqual(eventCounts(server.logText, Array(expected.keys)), expected, server.logText)
        XCTAssertTrue(server.logText.contains("role=gateway"))
        for node in supportingProcesses {
            XCTAssertEqual(node.kill(signal: SIGTERM), 0)
            let nodeEvents = ["starting", "secret_loaded", "recovery", "listening", "shutdown_begin", "store_closed", "shutdown_complete"]
            XCTAssertEqual(eventCounts(node.logText, nodeEvents), Dictionary(uniqueKeysWithValues: nodeEvents.map { ($0, 1) }), node.logText)
            XCTAssertTrue(node.logText.contains("role=storage"))
            let listening = try XCTUnwrap(node.logText.split(separator: "\n").first { $0.contains("event=listening") })
            XCTAssertTrue(listening.contains("address=127.0.0.1:\(node.port)"), String(listening))
        }
    }

    /// A second storage node on a node's data directory refuses to start (the store's lock);
    /// the cluster keeps serving.
    override func testSecondServerOnTheSameDataDirectoryRefusesToStart() throws {
        let node = try XCTUnwrap(supportingProcesses.first)
        let second = ServerProcess(dataDirectory: node.dataDirectory, arguments: ["--role", "storage"])
        XCTAssertThrowsError(try second.start())
        second.kill(signal: SIGKILL)
        XCTAssertTrue(node.isRunning)
        XCTAssertTrue(second.logText.contains("event=store_open_failed"), second.logText)
        assertServerStillServes()
    }

    func testClusterFlagsAreValidatedWithUsageErrors() throws {
        let cases: [([String], String)] = [
            (["--role", "gateway"], "--role gateway needs --storage"),
            (["--role", "storage", "--storage", "127.0.0.1:7000"], "--storage is only for --role gateway"),
            (["--storage", "127.0.0.1:7000"], "--storage is only for --role gateway"),
            (["--role", "gateway", "--storage", "example.com:7000"], "--storage: expected HOST:PORT"),
            (["--role", "gateway", "--storage", "127.0.0.1:7000,127.0.0.1:7000"], "lists a node twice"),
            (["--role", "gateway", "--storage", "127.0.0.1:0"], "--storage: expected HOST:PORT"),
            (["--role", "primary"], "--role: expected all, storage or gateway"),
            (["--role", "gateway", "--storage", "127.0.0.1:7000", "--storage-timeout-ms", "0"], "--storage-timeout-ms"),
            (["--role", "gateway", "--storage", "127.0.0.1:7000", "--storage-connections", "99"], "--storage-connections"),
        ]
        for (arguments, message) in cases {
            let (status, _, errors) = try runCommand(arguments)
            XCTAssertEqual(status, 2, "\(arguments)")
            XCTAssertTrue(errors.contains(message), "\(arguments): \(errors)")
        }
        let (status, output, _) = try runCommand(["--help"])
        XCTAssertEqual(status, 0)
        for text in ["--role", "--storage", "--storage-timeout-ms", "--storage-connections", "SEQBOX_ROLE", "SEQBOX_STORAGE", "share the secret"] {
            XCTAssertTrue(output.contains(text), "--help lacks \(text)")
        }
    }

    // XCTest on Linux runs only the test methods a class declares: each inherited one is named here.
    override func testHelpDescribesFlagsEnvironmentAndTokens() throws { try super.testHelpDescribesFlagsEnvironmentAndTokens() }
    override func testUnknownFlagExitsWithUsageStatus() throws { try super.testUnknownFlagExitsWithUsageStatus() }
    override func testTokenSubcommandMintsATokenTheRunningServerAccepts() throws { try super.testTokenSubcommandMintsATokenTheRunningServerAccepts() }
}
