import Foundation
import XCTest

/// Runs the built `seqbox-bench store --quick` at tiny scale: proves the runner drives every
/// scenario for both engines end to end and writes its table and JSON. No timing assertions.
final class StoreBenchmarkRunnerTests: BenchProcessTestCase {
    /// Generous: a debug build at tiny scale takes seconds.
    override class var runTimeLimitSeconds: Double { 300 }
    static let tinyScale = [
        "--quick", "--seconds", "0.05", "--read-seconds", "0.05", "--warmup", "0.01",
        "--users", "50", "--messages", "2000", "--large-users", "100", "--large-messages", "4000",
    ]

    func testQuickRunMeasuresEveryScenarioForBothEnginesAndWritesTableAndJSON() throws {
        let dataDirectory = workDirectory.appendingPathComponent("data").path
        let jsonPath = workDirectory.appendingPathComponent("results.json").path
        let run = try runBench(["store"] + Self.tinyScale + ["--dir", dataDirectory, "--json", jsonPath])
        XCTAssertEqual(run.status, 0, "seqbox-bench failed:\n\(run.output)")

        XCTAssertTrue(run.output.contains("| Scenario"), run.output)
        XCTAssertTrue(run.output.contains("Seqbox/SQLite"), run.output)
        XCTAssertTrue(run.output.contains("| Target"), run.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dataDirectory), "the stores are removed after the run")

        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: jsonPath))) as? [String: Any])
        let cases = try XCTUnwrap(json["cases"] as? [[String: Any]])
        var byID: [String: [String: Any]] = [:]
        for entry in cases { byID[entry["id"] as? String ?? ""] = entry }

        let appendIDs = ["append-sync/blocking-1", "append-sync/blocking-8", "append-sync/blocking-64",
                         "append-sync/async-64", "append-sync/async-1024",
                         "append-none/blocking-1", "append-none/batch-64", "append-none/async-1024"]
        let readIDs = ["read/borrowed-1", "read/borrowed-2", "read/copied-1", "read/copied-2"]
        let openIDs = ["dataset/open-after-kill", "dataset/open-clean-warm", "dataset/open-clean-cold",
                       "open-large/open-after-kill", "open-large/open-clean-warm", "open-large/open-clean-cold"]
        for id in appendIDs + readIDs + openIDs + ["dataset/populate", "open-large/populate"] {
            let entry = try XCTUnwrap(byID[id], "case \(id) missing")
            XCTAssertEqual((entry["errors"] as? [String]) ?? ["missing"], [], "case \(id)")
            for engine in ["seqbox", "sqlite"] {
                let report = try XCTUnwrap(entry[engine] as? [String: Any], "\(id): no \(engine) report")
                XCTAssertGreaterThan(report["peakResidentBytes"] as? Int ?? 0, 0, "\(id) \(engine): peak RSS")
                if appendIDs.contains(id) || readIDs.contains(id) {
                    XCTAssertGreaterThan(report["messages"] as? Int ?? 0, 0, "\(id) \(engine): nothing measured")
                    XCTAssertNotNil(report["latency"], "\(id) \(engine): no latency")
                }
                if openIDs.contains(id) {
                    XCTAssertNotNil(report["openSeconds"], "\(id) \(engine): no open time")
                }
            }
        }
        // The large store holds every loaded message after the kill -9 and after a clean close.
        for id in ["open-large/open-after-kill", "open-large/open-clean-warm"] {
            let seqbox = try XCTUnwrap(byID[id]?["seqbox"] as? [String: Any])
            XCTAssertEqual(seqbox["messages"] as? Int, 4000, id)
        }
        let targets = try XCTUnwrap(json["targets"] as? [[String: Any]])
        XCTAssertFalse(targets.isEmpty)
        let machine = try XCTUnwrap(json["machine"] as? [String: Any])
        XCTAssertNotEqual(machine["fileSystem"] as? String, "unknown")
    }

    func testUnknownScenarioGroupIsRejectedWithUsage() throws {
        let run = try runBench(["store", "--only", "no-such-group", "--dir", workDirectory.appendingPathComponent("data").path])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.output.contains("usage: seqbox-bench store"), run.output)
    }
}
