import Foundation
import SeqboxFormat
import SeqboxStore
import SeqboxTooling
import XCTest

/// Exit statuses and error lines of both tools: 0 clean, 1 problems (fsck), 2 unusable input,
/// with one clear line on stderr and never a crash.
final class ExitStatusTests: XCTestCase {
    var fixture: StoreFixture!

    override func setUpWithError() throws {
        fixture = try StoreFixture(name: "exit").build(count: 40)
    }

    override func tearDown() { fixture.remove() }

    /// Asserts status 2 with exactly one line on stderr, starting with the tool's name.
    func assertUnusable(_ result: ToolResult, tool: String, mentions text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 2, result.standardOutput + result.standardError, file: file, line: line)
        XCTAssertTrue(result.standardError.hasPrefix("\(tool): "), result.standardError, file: file, line: line)
        XCTAssertEqual(result.standardError.filter { $0 == "\n" }.count, 1, "one line: \(result.standardError)", file: file, line: line)
        XCTAssertTrue(result.standardError.contains(text), "'\(text)' not in: \(result.standardError)", file: file, line: line)
        XCTAssertEqual(result.standardOutput, "", file: file, line: line)
    }

    func run(_ tool: String, _ arguments: [String]) -> ToolResult {
        tool == "seqbox-fsck" ? ToolRunner.fsck(arguments) : ToolRunner.dump(arguments)
    }

    func testBadArgumentsExitTwoWithOneLine() {
        for tool in ["seqbox-fsck", "seqbox-dump"] {
            assertUnusable(run(tool, []), tool: tool, mentions: "missing the store directory")
            assertUnusable(run(tool, ["--no-such-flag", fixture.directory]), tool: tool, mentions: "unknown option '--no-such-flag'")
            assertUnusable(run(tool, ["-x", fixture.directory]), tool: tool, mentions: "unknown option '-x'")
            assertUnusable(run(tool, [fixture.directory, fixture.directory]), tool: tool, mentions: "expected one store directory")
            assertUnusable(run(tool, ["--json=yes", fixture.directory]), tool: tool, mentions: "--json takes no value")
        }
        assertUnusable(ToolRunner.dump(["--type", "photo", fixture.directory]), tool: "seqbox-dump", mentions: "unknown record type 'photo'")
        assertUnusable(ToolRunner.dump(["--user", "-3", fixture.directory]), tool: "seqbox-dump", mentions: "--user: expected a number")
        assertUnusable(ToolRunner.dump(["--from-seq", "9", "--to-seq", "3", fixture.directory]), tool: "seqbox-dump", mentions: "above --to-seq")
        assertUnusable(ToolRunner.dump(["--segment", "12345", fixture.directory]), tool: "seqbox-dump", mentions: "no segment")
        assertUnusable(ToolRunner.dump(["--json", "--hex", fixture.directory]), tool: "seqbox-dump", mentions: "choose one of --json, --hex")
        assertUnusable(ToolRunner.dump(["--stats", "--records", fixture.directory]), tool: "seqbox-dump", mentions: "choose one of")
        assertUnusable(ToolRunner.dump(["--stats", "--user", "1", fixture.directory]), tool: "seqbox-dump", mentions: "apply to --records only")
        assertUnusable(ToolRunner.dump(["--limit"]), tool: "seqbox-dump", mentions: "--limit needs a value")
    }

    func testMissingOrNonStoreDirectoryExitsTwo() throws {
        for tool in ["seqbox-fsck", "seqbox-dump"] {
            assertUnusable(run(tool, [fixture.directory + "-missing"]), tool: tool, mentions: "no such directory")
            assertUnusable(run(tool, [fixture.path(fixture.segmentNames[0])]), tool: tool, mentions: "not a directory")
            assertUnusable(run(tool, [fixture.logDirectory]), tool: tool, mentions: "not a Seqbox store")
        }
    }

    func testAFileThatIsNotASegmentExitsTwo() throws {
        try Data("this is not a segment, just text that happens to have the right name\n".utf8)
            .write(to: URL(fileURLWithPath: fixture.path("00000000000000999999.log")))
        for tool in ["seqbox-fsck", "seqbox-dump"] {
            assertUnusable(run(tool, [fixture.directory]), tool: tool, mentions: "not a Seqbox segment")
        }
    }

    func testAnUnknownFormatVersionExitsTwo() throws {
        let name = fixture.segmentNames[0]
        try fixture.patch(name) { bytes in
            bytes.withUnsafeMutableBytes { raw in
                raw.storeLE(UInt16(FormatConstants.formatVersion + 1), at: 8)
                let covered = UnsafeRawBufferPointer(rebasing: raw[0 ..< FormatConstants.segmentHeaderChecksumOffset])
                raw.storeLE(Checksum.xxh3(covered), at: FormatConstants.segmentHeaderChecksumOffset)
            }
        }
        for tool in ["seqbox-fsck", "seqbox-dump"] {
            assertUnusable(run(tool, [fixture.directory]), tool: tool, mentions: "unknown format version \(FormatConstants.formatVersion + 1)")
        }
    }

    func testCleanDamagedAndRepairedStatuses() throws {
        XCTAssertEqual(ToolRunner.fsck([fixture.directory]).status, 0)
        XCTAssertEqual(ToolRunner.dump([fixture.directory]).status, 0)
        _ = try PlantedFault.flippedPayloadBit(fixture)
        XCTAssertEqual(ToolRunner.fsck([fixture.directory]).status, 1)
        XCTAssertEqual(ToolRunner.fsck(["--json", fixture.directory]).status, 1)
        XCTAssertEqual(ToolRunner.dump(["--records", fixture.directory]).status, 0, "dump shows damage; it is not an error")
        XCTAssertEqual(ToolRunner.fsck(["--repair", fixture.directory]).status, 0)
        XCTAssertEqual(ToolRunner.fsck([fixture.directory]).status, 0)
    }

    func testHelpListsEveryFlagAndExitsZero() {
        let fsck = ToolRunner.fsck(["--help"])
        XCTAssertEqual(fsck.status, 0)
        for flag in ["--repair", "--json", "--progress", "--help", "exit status", "in use by a server"] {
            XCTAssertTrue(fsck.standardOutput.contains(flag), "fsck --help lacks \(flag)")
        }
        let dump = ToolRunner.dump(["-h"])
        XCTAssertEqual(dump.status, 0)
        for flag in ["--segments", "--records", "--stats", "--user", "--from-seq", "--to-seq", "--segment", "--type", "--limit",
                     "--top", "--json", "--hex", "--help", "exit status", "without the lock"] {
            XCTAssertTrue(dump.standardOutput.contains(flag), "dump --help lacks \(flag)")
        }
    }

    func testProgressGoesToStandardErrorWhenAsked() {
        let result = ToolRunner.fsck(["--progress", fixture.directory])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.standardError.contains("verifying"), result.standardError)
        XCTAssertTrue(result.standardError.contains("MB/s"), result.standardError)
        XCTAssertTrue(result.standardError.contains("left"), result.standardError)
        XCTAssertEqual(ToolRunner.fsck([fixture.directory]).standardError, "", "no progress when stderr is not a terminal")
    }
}
