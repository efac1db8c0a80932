import Foundation
import XCTest

/// The built executables end to end: exit statuses and one-line errors through a real process.
final class BinaryTests: XCTestCase {
    var fixture: StoreFixture!

    override func setUpWithError() throws {
        fixture = try StoreFixture(name: "binary").build(count: 40)
    }

    override func tearDown() { fixture.remove() }

    /// The directory holding the built products (next to the test bundle).
    func executable(_ name: String) throws -> String {
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                          Bundle.main.bundleURL.deletingLastPathComponent(), Bundle.main.bundleURL]
        for directory in candidates {
            let path = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        XCTFail("\(name) is not built next to the tests (run `swift build --build-tests` first); looked in \(candidates.map(\.path))")
        throw CocoaError(.fileNoSuchFile)
    }

    /// Runs a tool and returns its status and output; bounded by `timeoutSeconds`.
    func run(_ name: String, _ arguments: [String], timeoutSeconds: Double = 60) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable(name))
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTFail("\(name) did not finish in \(timeoutSeconds) s")
        }
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    func testFsckBinaryExitStatuses() throws {
        let clean = try run("seqbox-fsck", [fixture.directory])
        XCTAssertEqual(clean.status, 0, clean.output + clean.error)
        XCTAssertTrue(clean.output.contains("problems: none"))
        _ = try PlantedFault.flippedPayloadBit(fixture)
        XCTAssertEqual(try run("seqbox-fsck", ["--json", fixture.directory]).status, 1)
        let missing = try run("seqbox-fsck", [fixture.directory + "-missing"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.error, "seqbox-fsck: \(fixture.directory)-missing: no such directory\n")
        XCTAssertEqual(try run("seqbox-fsck", ["--repair", fixture.directory]).status, 0)
        XCTAssertEqual(try run("seqbox-fsck", [fixture.directory]).status, 0)
    }

    func testDumpBinaryExitStatuses() throws {
        let segments = try run("seqbox-dump", [fixture.directory])
        XCTAssertEqual(segments.status, 0, segments.error)
        XCTAssertTrue(segments.output.hasPrefix("FILE "), segments.output)
        try Data("not a segment".utf8).write(to: URL(fileURLWithPath: fixture.path("00000000000000999999.log")))
        let bad = try run("seqbox-dump", ["--records", fixture.directory])
        XCTAssertEqual(bad.status, 2)
        XCTAssertEqual(bad.error.filter { $0 == "\n" }.count, 1, bad.error)
        XCTAssertTrue(bad.error.contains("not a Seqbox segment"), bad.error)
        let usage = try run("seqbox-dump", ["--type"])
        XCTAssertEqual(usage.status, 2)
        XCTAssertEqual(usage.error, "seqbox-dump: --type needs a value TYPE\n")
    }
}
