import Foundation
import SeqboxStore
import XCTest
@testable import SeqboxServer

/// `seqboxd` settings: flags over environment variables over defaults, and token minting.
final class ServiceOptionsTests: XCTestCase {
    func parse(_ arguments: [String], _ environment: [String: String] = [:]) throws -> ServerOptions {
        try XCTUnwrap(try ServerOptions.parse(arguments: arguments, environment: environment))
    }

    func testDefaultsListenOnLoopbackWithSyncDurability() throws {
        let options = try parse([])
        XCTAssertEqual(options.host, "127.0.0.1")
        XCTAssertEqual(options.port, ServerOptions.defaultPort)
        XCTAssertEqual(options.dataDirectory, "./data")
        XCTAssertEqual(options.durability, .sync)
        XCTAssertEqual(options.logLevel, .info)
    }

    func testFlagsOverrideEnvironmentVariables() throws {
        let environment = ["SEQBOX_PORT": "9000", "SEQBOX_DATA": "/env", "SEQBOX_DURABILITY": "none", "SEQBOX_LOG_LEVEL": "debug"]
        let fromEnvironment = try parse([], environment)
        XCTAssertEqual(fromEnvironment.port, 9000)
        XCTAssertEqual(fromEnvironment.dataDirectory, "/env")
        XCTAssertEqual(fromEnvironment.durability, Durability.none)
        XCTAssertEqual(fromEnvironment.logLevel, .debug)
        let overridden = try parse(["--port", "9001", "--data=/flag", "--durability", "interval:5"], environment)
        XCTAssertEqual(overridden.port, 9001)
        XCTAssertEqual(overridden.dataDirectory, "/flag")
        XCTAssertEqual(overridden.durability, .interval(milliseconds: 5))
    }

    func testLimitsAndPoliciesAreParsed() throws {
        let options = try parse(["--send-rate", "10", "--send-burst", "30", "--message-bytes-max", "1024", "--pull-limit-max", "64",
                                 "--idle-timeout-ms", "5000", "--filter-keyword", "spam", "--filter-keyword", "scam", "--filter-pattern", "a+b"])
        XCTAssertEqual(options.service.sendRate, RateLimit(perSecond: 10, burst: 30))
        XCTAssertEqual(options.service.messageBodySizeMax, 1024)
        XCTAssertEqual(options.service.pullLimitMax, 64)
        XCTAssertEqual(options.idleTimeoutMs, 5000)
        XCTAssertEqual(options.filterKeywords, ["spam", "scam"])
        XCTAssertEqual(options.filterPatterns, ["a+b"])
        XCTAssertTrue(try parse(["--send-rate", "0"]).service.sendRate.isUnlimited)
        XCTAssertEqual(try parse([], ["SEQBOX_FILTER_KEYWORDS": "a,b"]).filterKeywords, ["a", "b"])
    }

    func testBadValuesAreUsageErrors() {
        for arguments in [["--port", "70000"], ["--durability", "fast"], ["--log-level", "loud"], ["--bogus"], ["--port"],
                          ["--message-bytes-max", "70000"], ["--pull-limit-max", "0"], ["--segment-bytes", "100"]] {
            XCTAssertThrowsError(try ServerOptions.parse(arguments: arguments, environment: [:]), "\(arguments)")
        }
        XCTAssertThrowsError(try ServerOptions.parse(arguments: [], environment: ["SEQBOX_PORT": "x"]))
    }

    func testHelpReturnsNilAndTheUsageListsEveryFlagAndVariable() throws {
        XCTAssertNil(try ServerOptions.parse(arguments: ["--help"], environment: [:]))
        for option in ServerOptions.options {
            XCTAssertTrue(ServerOptions.usage.contains(option.flag), option.flag)
            if let variable = option.environment { XCTAssertTrue(ServerOptions.usage.contains(variable), variable) }
        }
        XCTAssertTrue(ServerOptions.usage.contains("SEQBOX_SECRET"))
    }

    func testAccessSettingsAdvertiseWhatTheServiceEnforces() throws {
        let options = try parse(["--message-bytes-max", "2048", "--pull-limit-max", "32", "--output-buffer-bytes", "1"])
        let access = ServerRunner.accessConfiguration(options: options, service: options.service, log: .silent)
        XCTAssertEqual(access.frameLimits.messageBodySizeMax, 2048)
        XCTAssertEqual(access.pullLimitMax, 32)
        XCTAssertGreaterThanOrEqual(access.outputBufferBytesMax, 4 + access.sentFrameLengthMax, "raised to hold one frame")
    }

    func testTokenCommandMintsATokenTheServerSecretVerifies() throws {
        let secret = Array(repeating: UInt8(0x5A), count: 32)
        let environment = [ServerSecret.environmentVariable: ServerSecret.encodeHex(secret)]
        let unused = NSTemporaryDirectory() + "seqbox-token-\(UUID().uuidString)"
        let hex = try XCTUnwrap(try TokenCommand.run(arguments: ["--user", "1001", "--device", "7", "--ttl", "60", "--data", unused],
                                                     environment: environment, nowSeconds: 1_000))
        XCTAssertFalse(FileManager.default.fileExists(atPath: unused), "the environment's secret needs no data directory")
        let bytes = try XCTUnwrap(ServerSecret.decodeHex(hex))
        let token = try TokenAuthority(secret: secret).verify(token: bytes, user: 1001, device: 7, nowSeconds: 1_000).get()
        XCTAssertEqual(token.expiresAtSeconds, 1_060)
        XCTAssertThrowsError(try TokenCommand.run(arguments: ["--user", "0", "--device", "1"], environment: environment, nowSeconds: 0))
        XCTAssertThrowsError(try TokenCommand.run(arguments: ["--device", "1"], environment: environment, nowSeconds: 0))
        XCTAssertNil(try TokenCommand.run(arguments: ["--help"], environment: environment, nowSeconds: 0))
    }
}
