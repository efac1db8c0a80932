import SeqboxServer
import XCTest

/// The role and cluster options of `seqboxd serve`: flags over environment variables, and the
/// usage errors of combinations that cannot work.
final class ClusterOptionsTests: XCTestCase {
    func parse(_ arguments: [String], _ environment: [String: String] = [:]) throws -> ServerOptions {
        try XCTUnwrap(try ServerOptions.parse(arguments: arguments, environment: environment))
    }

    func usageError(_ arguments: [String], _ environment: [String: String] = [:]) -> String {
        do {
            _ = try ServerOptions.parse(arguments: arguments, environment: environment)
            return "parsed"
        } catch {
            return error.description
        }
    }

    func testTheDefaultRoleIsAllWithNoStorageNodes() throws {
        let options = try parse([])
        XCTAssertEqual(options.cluster.role, .all)
        XCTAssertEqual(options.cluster.storageNodes, [])
        XCTAssertEqual(options.cluster.storageTimeoutMs, 2_000)
        XCTAssertEqual(options.cluster.storageConnections, 1)
    }

    func testAGatewayTakesItsNodesInOrderFromFlagsOrEnvironment() throws {
        let environment = ["SEQBOX_ROLE": "gateway", "SEQBOX_STORAGE": "10.0.0.2:7501, 10.0.0.1:7502", "SEQBOX_STORAGE_TIMEOUT_MS": "500"]
        let fromEnvironment = try parse([], environment)
        XCTAssertEqual(fromEnvironment.cluster.role, .gateway)
        XCTAssertEqual(fromEnvironment.cluster.storageNodes, [StorageEndpoint(host: "10.0.0.2", port: 7501), StorageEndpoint(host: "10.0.0.1", port: 7502)])
        XCTAssertEqual(fromEnvironment.cluster.storageTimeoutMs, 500)
        let overridden = try parse(["--storage", "localhost:9000", "--storage-connections", "4"], environment)
        XCTAssertEqual(overridden.cluster.storageNodes, [StorageEndpoint(host: "localhost", port: 9000)])
        XCTAssertEqual(overridden.cluster.storageConnections, 4)
        XCTAssertEqual(try parse(["--role", "storage"]).cluster.role, .storage)
    }

    func testCombinationsThatCannotWorkAreUsageErrors() {
        XCTAssertTrue(usageError(["--role", "gateway"]).contains("needs --storage"))
        XCTAssertTrue(usageError(["--role", "storage", "--storage", "127.0.0.1:1"]).contains("only for --role gateway"))
        XCTAssertTrue(usageError([], ["SEQBOX_STORAGE": "127.0.0.1:1"]).contains("only for --role gateway"))
        XCTAssertTrue(usageError(["--role", "gateway", "--storage", "127.0.0.1:1,127.0.0.1:1"]).contains("twice"))
        for bad in ["127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "host.example:1", ":7000", "127.0.0.1:7000,", "127.0.0.1:0"] {
            XCTAssertTrue(usageError(["--role", "gateway", "--storage", bad]).contains("expected HOST:PORT"), bad)
        }
        XCTAssertTrue(usageError(["--role", "leader"]).contains("expected all, storage or gateway"))
        XCTAssertTrue(usageError(["--role", "gateway", "--storage", "127.0.0.1:1", "--storage-timeout-ms", "0"]).contains("--storage-timeout-ms"))
        XCTAssertTrue(usageError(["--role", "gateway", "--storage", "127.0.0.1:1", "--storage-connections", "17"]).contains("--storage-connections"))
    }
}
