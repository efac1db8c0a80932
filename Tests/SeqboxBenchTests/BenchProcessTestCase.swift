import Foundation
import XCTest

/// Base of the tests that run the built `seqbox-bench` as a real process: a fresh work
/// directory per test (removed in tearDown) and `runBench`, which runs the binary with a time
/// limit and returns its exit status and output.
class BenchProcessTestCase: XCTestCase {
    /// Longest one run may take before it is stopped and the test fails.
    class var runTimeLimitSeconds: Double { 120 }
    /// After SIGTERM (which the benchmark forwards to the servers it started), how long it has
    /// to stop before SIGKILL.
    static let stopGraceSeconds = 10.0

    private(set) var workDirectory: URL!

    override func setUpWithError() throws {
        workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(Self.self)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: workDirectory)
    }

    /// The benchmark binary built next to this test bundle.
    func benchExecutable() throws -> URL {
        let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let url = URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent("seqbox-bench")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: url.path), "seqbox-bench is not built next to the tests: \(url.path)")
        return url
    }

    /// Runs the benchmark with `arguments` (and `environment` over this process's) within
    /// `runTimeLimitSeconds`, else SIGTERM, then SIGKILL after `stopGraceSeconds`, and a
    /// failure; returns its exit status and stdout + stderr.
    func runBench(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let outputPath = workDirectory.appendingPathComponent("output-\(UUID().uuidString).txt")
        _ = FileManager.default.createFile(atPath: outputPath.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputPath)
        defer { try? output.close() }
        let process = Process()
        process.executableURL = try benchExecutable()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = output
        process.standardError = output
        try process.run()
        if !waitForExit(process, seconds: Self.runTimeLimitSeconds) {
            kill(process.processIdentifier, SIGTERM)
            if !waitForExit(process, seconds: Self.stopGraceSeconds) { kill(process.processIdentifier, SIGKILL) }
            XCTFail("seqbox-bench did not finish within \(Self.runTimeLimitSeconds) s")
        }
        process.waitUntilExit()
        let text = (try? String(contentsOf: outputPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, text)
    }

    /// Whether `process` exited within `seconds`.
    private func waitForExit(_ process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return !process.isRunning
    }
}
