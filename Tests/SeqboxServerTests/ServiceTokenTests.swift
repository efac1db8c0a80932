import Foundation
import SeqboxProtocol
import XCTest
@testable import SeqboxServer

/// Login tokens (PROTOCOL.md §8) and the server secret.
final class ServiceTokenTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "seqbox-secret-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testHMACMatchesTheWorkedExampleOfTheProtocol() {
        let input = LoginToken.macInput(user: 1001, device: 7, expiresAtSeconds: 1_767_225_600)
        let mac = HMACSHA256.mac(key: Array("seqbox-example-secret".utf8), message: input)
        XCTAssertEqual(ServerSecret.encodeHex(mac), "3e4ba9b9580bf5e3ad8fe6920d79310057c4044ebe81d6aa8231b59862c4e2de")
    }

    func testHMACMatchesRFC4231TestCase2() {
        let mac = HMACSHA256.mac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(ServerSecret.encodeHex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testMintedTokenVerifiesForItsUserAndDeviceOnly() {
        let authority = TokenAuthority(secret: Array(repeating: 7, count: 32))
        let token = authority.mint(user: 1001, device: 7, expiresAtSeconds: 2_000).bytes
        XCTAssertEqual(token.count, ProtocolConstants.tokenSize)
        XCTAssertNoThrow(try authority.verify(token: token, user: 1001, device: 7, nowSeconds: 1_000).get())
        XCTAssertEqual(authority.verify(token: token, user: 1002, device: 7, nowSeconds: 1_000).refusal, .invalid)
        XCTAssertEqual(authority.verify(token: token, user: 1001, device: 8, nowSeconds: 1_000).refusal, .invalid)
    }

    func testTokenIsAcceptedUntilItsExpirySecondAndExpiredAfter() {
        let authority = TokenAuthority(secret: Array(repeating: 7, count: 32))
        let token = authority.mint(user: 1, device: 1, expiresAtSeconds: 2_000).bytes
        XCTAssertNil(authority.verify(token: token, user: 1, device: 1, nowSeconds: 2_000).refusal)
        XCTAssertEqual(authority.verify(token: token, user: 1, device: 1, nowSeconds: 2_001).refusal, .expired)
    }

    func testTamperedWrongSizeOrOtherSecretTokensAreInvalidNotExpired() {
        let authority = TokenAuthority(secret: Array(repeating: 7, count: 32))
        let other = TokenAuthority(secret: Array(repeating: 8, count: 32))
        let token = authority.mint(user: 1, device: 1, expiresAtSeconds: 2_000).bytes
        for index in token.indices {
            var tampered = token
            tampered[index] ^= 0x01
            XCTAssertEqual(authority.verify(token: tampered, user: 1, device: 1, nowSeconds: 3_000).refusal, .invalid, "byte \(index)")
        }
        XCTAssertEqual(authority.verify(token: Array(token.dropLast()), user: 1, device: 1, nowSeconds: 1_000).refusal, .invalid)
        XCTAssertEqual(authority.verify(token: token + [0], user: 1, device: 1, nowSeconds: 1_000).refusal, .invalid)
        XCTAssertEqual(authority.verify(token: [], user: 1, device: 1, nowSeconds: 1_000).refusal, .invalid)
        XCTAssertEqual(other.verify(token: token, user: 1, device: 1, nowSeconds: 1_000).refusal, .invalid)
    }

    func testConstantTimeCompareTellsEqualFromDifferent() {
        XCTAssertTrue(HMACSHA256.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(HMACSHA256.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(HMACSHA256.constantTimeEqual([1, 2, 3], [1, 2]))
    }

    func testSecretIsCreatedOwnerOnlyOnFirstStartAndReusedAfter() throws {
        let first = try ServerSecret.load(dataDirectory: directory, environment: [:])
        XCTAssertEqual(first.secret.count, ServerSecret.generatedSize)
        XCTAssertEqual(first.source, .createdFile(directory + "/secret"))
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/secret")
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let second = try ServerSecret.load(dataDirectory: directory, environment: [:])
        XCTAssertEqual(second.secret, first.secret)
        XCTAssertEqual(second.source, .existingFile(directory + "/secret"))
    }

    func testSecretFromEnvironmentWinsAndMustBeLongHex() throws {
        let hex = String(repeating: "ab", count: 32)
        let loaded = try ServerSecret.load(dataDirectory: directory, environment: [ServerSecret.environmentVariable: hex])
        XCTAssertEqual(loaded.secret, Array(repeating: 0xAB, count: 32))
        XCTAssertEqual(loaded.source, .environment)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/secret"))
        XCTAssertThrowsError(try ServerSecret.load(dataDirectory: directory, environment: [ServerSecret.environmentVariable: "xyz"]))
        XCTAssertThrowsError(try ServerSecret.load(dataDirectory: directory, environment: [ServerSecret.environmentVariable: "abcd"]))
    }

    func testSecretFileReadableByOthersIsRefused() throws {
        _ = try ServerSecret.load(dataDirectory: directory, environment: [:])
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory + "/secret")
        XCTAssertThrowsError(try ServerSecret.load(dataDirectory: directory, environment: [:])) { error in
            guard case ServerSecret.LoadError.permissive = error else { return XCTFail("unexpected \(error)") }
        }
    }
}

extension Result where Failure == TokenAuthority.Refusal {
    var refusal: TokenAuthority.Refusal? {
        if case .failure(let refusal) = self { refusal } else { nil }
    }
}
