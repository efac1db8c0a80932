import Foundation
import XCTest

/// Runs the built `seqbox-bench e2e --quick` at tiny scale as a real process, against a real
/// seqboxd and redis-server it starts itself: proves the runner connects, drives both engines
/// end to end, stops its servers and writes its table and JSON. No timing assertions.
///
/// The RESP codec and the hand-laid Seqbox frames live in the executable, which this test
/// target cannot link; `seqbox-bench e2e-selfcheck` runs their checks (every RESP type, nil
/// values, every split point of a reply, malformed input, frames compared byte for byte with
/// SeqboxProtocol's encoder and decoder, the token HMAC against PROTOCOL.md and seqboxd) and
/// the test below asserts that each of them ran and passed.
final class E2EBenchmarkRunnerTests: BenchProcessTestCase {
    /// Generous: a debug build at tiny scale takes about ten seconds.
    override class var runTimeLimitSeconds: Double { 120 }
    static let tinyScale = [
        "--quick", "--connections", "20", "--rate", "200", "--seconds", "1", "--warmup", "0.2",
        "--sweep-start", "200", "--sweep-seconds", "0.5", "--sweep-steps-max", "2", "--drain-seconds", "10",
        "--overload-rate", "2000", "--threads", "2",
    ]
    static let selfChecks = [
        "hmac token of PROTOCOL.md §8", "token equals seqboxd token",
        "seqbox client frames equal FrameEncoder", "seqbox server frames read like FrameDecoder",
        "seqbox incomplete and bad frames", "resp encoder", "resp parses every type", "resp incomplete at every split",
        "resp rejects malformed input", "seqbox client notify pull ack", "redis client xadd replies",
        "redis client xread replies at every split",
    ]

    func testQuickRunDrivesSeqboxAndRedisEndToEndAndWritesTableAndJSON() throws {
        let dataDirectory = workDirectory.appendingPathComponent("data").path
        let jsonPath = workDirectory.appendingPathComponent("results.json").path
        let run = try runBench(["e2e"] + Self.tinyScale + ["--engines", "seqbox,redis-always", "--dir", dataDirectory, "--json", jsonPath])
        XCTAssertEqual(run.status, 0, "seqbox-bench failed:\n\(run.output)")

        XCTAssertTrue(run.output.contains("| Phase"), run.output)
        XCTAssertTrue(run.output.contains("Seqbox/Redis always"), run.output)
        XCTAssertTrue(run.output.contains("| Target"), run.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dataDirectory), "the servers' data is removed after the run")
        XCTAssertEqual(processesMentioning(dataDirectory), [], "a server the benchmark started is still running")

        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: jsonPath))) as? [String: Any])
        let engines = try XCTUnwrap(json["engines"] as? [[String: Any]])
        XCTAssertEqual(engines.compactMap { $0["engine"] as? String }, ["seqbox", "redis-always"])
        for engine in engines {
            let name = engine["engine"] as? String ?? "?"
            XCTAssertEqual(engine["errors"] as? [String], [], name)
            XCTAssertEqual(engine["connections"] as? Int, 20, name)
            XCTAssertFalse((engine["serverCommand"] as? String ?? "").isEmpty, name)
            XCTAssertNotNil(engine["memoryPerConnectionBytes"], "\(name): memory per connection")
            let fixed = try XCTUnwrap(engine["fixedRate"] as? [String: Any], "\(name): no fixed-rate phase")
            try assertPhase(fixed, engine: name)
            let steps = try XCTUnwrap(engine["sweepSteps"] as? [[String: Any]], "\(name): no sweep")
            XCTAssertFalse(steps.isEmpty, "\(name): no sweep step")
            for step in steps { try assertPhase(step, engine: name) }
            let saturation = try XCTUnwrap(engine["saturation"] as? [String: Any], "\(name): no saturation")
            XCTAssertGreaterThan(saturation["maxAchievedRate"] as? Double ?? 0, 0, name)
            let overload = try XCTUnwrap(engine["overload"] as? [String: Any], "\(name): no overload phase")
            XCTAssertGreaterThan((overload["counts"] as? [String: Int])?["acknowledged"] ?? 0, 0, "\(name): overload")
            XCTAssertEqual((overload["counts"] as? [String: Int])?["anomalies"], 0, "\(name): overload")
            let phases = [fixed, overload] + steps
            XCTAssertGreaterThan(phases.reduce(0) { $0 + ($1["generatorCores"] as? Double ?? 0) }, 0, "\(name): the generator's CPU was measured")
        }
        // Throughput, notify latency, and the Redis ratio at saturation and at capacity.
        let targets = try XCTUnwrap(json["targets"] as? [[String: Any]])
        XCTAssertEqual(targets.count, 4)
        XCTAssertEqual((json["selfChecks"] as? [String]).map(Set.init), Set(Self.selfChecks))
    }

    func testClusterEngineDrivesAGatewayInFrontOfTwoStorageNodesAndStopsAllThree() throws {
        let dataDirectory = workDirectory.appendingPathComponent("data").path
        let jsonPath = workDirectory.appendingPathComponent("results.json").path
        let run = try runBench(["e2e"] + Self.tinyScale + ["--engines", "seqbox-cluster", "--dir", dataDirectory, "--json", jsonPath])
        XCTAssertEqual(run.status, 0, "seqbox-bench failed:\n\(run.output)")
        XCTAssertTrue(run.output.contains("the storage nodes used"), run.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dataDirectory), "the servers' data is removed after the run")
        XCTAssertEqual(processesMentioning(dataDirectory), [], "a gateway or storage node the benchmark started is still running")

        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: jsonPath))) as? [String: Any])
        let engine = try XCTUnwrap((json["engines"] as? [[String: Any]])?.first)
        XCTAssertEqual(engine["engine"] as? String, "seqbox-cluster")
        XCTAssertEqual(engine["errors"] as? [String], [])
        let command = engine["serverCommand"] as? String ?? ""
        XCTAssertTrue(command.contains("--role gateway") && command.contains("--role storage"), command)
        XCTAssertEqual((engine["storageNodesCPUSeconds"] as? [Double])?.count, 2)
        try assertPhase(try XCTUnwrap(engine["fixedRate"] as? [String: Any], "no fixed-rate phase"), engine: "seqbox-cluster")
    }

    func testSelfCheckRunsEveryCodecAndTokenCheck() throws {
        let run = try runBench(["e2e-selfcheck"])
        XCTAssertEqual(run.status, 0, run.output)
        for check in Self.selfChecks { XCTAssertTrue(run.output.contains("ok \(check)\n"), "\(check) did not pass:\n\(run.output)") }
        XCTAssertTrue(run.output.contains("self-check: \(Self.selfChecks.count) checks passed"), run.output)
    }

    func testMissingRedisServerFailsWithAClearMessage() throws {
        let emptyPath = workDirectory.appendingPathComponent("empty-path").path
        try FileManager.default.createDirectory(atPath: emptyPath, withIntermediateDirectories: true)
        let run = try runBench(["e2e", "--quick", "--dir", workDirectory.appendingPathComponent("data").path], environment: ["PATH": emptyPath])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.output.contains("redis-server is not on PATH"), run.output)
    }

    func testUnknownEngineIsRejectedWithUsage() throws {
        let run = try runBench(["e2e", "--engines", "seqbox,memcached"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.output.contains("usage: seqbox-bench e2e"), run.output)
    }

    // MARK: Helpers

    /// Every message of the phase sent, answered, delivered once and in order, with latencies.
    private func assertPhase(_ phase: [String: Any], engine: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let name = "\(engine) \(phase["name"] as? String ?? "?")"
        let counts = try XCTUnwrap(phase["counts"] as? [String: Int], name, file: file, line: line)
        let sent = counts["sent"] ?? 0
        XCTAssertGreaterThan(sent, 0, "\(name): nothing sent", file: file, line: line)
        XCTAssertEqual(counts["scheduled"], sent, "\(name): scheduled but not sent", file: file, line: line)
        XCTAssertEqual(counts["acknowledged"], sent, "\(name): unanswered sends", file: file, line: line)
        XCTAssertEqual(counts["delivered"], sent, "\(name): undelivered messages", file: file, line: line)
        XCTAssertEqual(counts["failed"], 0, name, file: file, line: line)
        XCTAssertEqual(counts["anomalies"], 0, "\(name): out of order, duplicated or misdelivered", file: file, line: line)
        XCTAssertEqual(phase["settled"] as? Bool, true, name, file: file, line: line)
        XCTAssertEqual((phase["acknowledgement"] as? [String: Any])?["samples"] as? Int, sent, name, file: file, line: line)
        XCTAssertEqual((phase["delivery"] as? [String: Any])?["samples"] as? Int, sent, name, file: file, line: line)
        if engine.hasPrefix("seqbox") {
            XCTAssertEqual((counts["notified"] ?? 0) + (counts["notifiedByReply"] ?? 0), sent, "\(name): not notified", file: file, line: line)
            XCTAssertEqual((phase["notification"] as? [String: Any])?["samples"] as? Int, sent, name, file: file, line: line)
        } else {
            XCTAssertNil(phase["notification"], "\(name): Redis has no notification", file: file, line: line)
        }
        // CPU comes from /proc in 10 ms clock ticks, so a short, light phase may measure 0; the
        // whole run must not (checked by the caller).
        XCTAssertGreaterThanOrEqual(phase["generatorCores"] as? Double ?? -1, 0, "\(name): generator CPU", file: file, line: line)
        XCTAssertNotNil(phase["serverCores"], "\(name): server CPU", file: file, line: line)
    }

    /// PIDs of running processes whose command line mentions `text`.
    private func processesMentioning(_ text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(text)
        }
    }
}
