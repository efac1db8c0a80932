import XCTest
@testable import SeqboxProtocol

/// The token byte layout of PROTOCOL.md §8.
final class LoginTokenTests: XCTestCase {
    private let mac = (0 ..< 32).map { UInt8($0 * 7 & 0xFF) }

    func testTokenBytesRoundTrip() throws {
        let token = LoginToken(expiresAtSeconds: 0x0102_0304_0506_0708, mac: mac)
        let bytes = token.bytes
        XCTAssertEqual(bytes.count, ProtocolConstants.tokenSize)
        XCTAssertEqual(Array(bytes[0 ..< 9]), [1, 8, 7, 6, 5, 4, 3, 2, 1])
        XCTAssertEqual(Array(bytes[9...]), mac)
        XCTAssertEqual(LoginToken(bytes: bytes), token)
    }

    func testMACInputLayout() {
        let input = LoginToken.macInput(user: 0x11, device: 0x22, expiresAtSeconds: 0x33)
        XCTAssertEqual(input.count, ProtocolConstants.tokenMACInputSize)
        XCTAssertEqual(input, [1] + [0x11, 0, 0, 0, 0, 0, 0, 0] + [0x22, 0, 0, 0, 0, 0, 0, 0] + [0x33, 0, 0, 0, 0, 0, 0, 0])
    }

    func testMalformedTokensDoNotParse() {
        let bytes = LoginToken(expiresAtSeconds: 1, mac: mac).bytes
        XCTAssertNil(LoginToken(bytes: bytes.dropLast()))
        XCTAssertNil(LoginToken(bytes: bytes + [0]))
        XCTAssertNil(LoginToken(bytes: [2] + bytes.dropFirst()))
        XCTAssertNil(LoginToken(bytes: []))
    }

    func testTokensFitTheLoginLimit() {
        XCTAssertLessThanOrEqual(ProtocolConstants.tokenSize, ProtocolConstants.tokenSizeMax)
        XCTAssertEqual(ProtocolConstants.tokenSize, 1 + 8 + ProtocolConstants.tokenMACSize)
    }
}
