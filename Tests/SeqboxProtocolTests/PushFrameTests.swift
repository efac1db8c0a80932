import XCTest
@testable import SeqboxProtocol

/// PUSH_REGISTER, PUSH_UNREGISTER and PUSH_OK (PROTOCOL.md §5.19–§5.21): round trips and every
/// limit, on both the decoding and the encoding side.
final class PushFrameTests: XCTestCase {
    /// A PUSH_REGISTER built by hand, so the encoder's checks do not apply.
    private func rawRegister(platform: UInt8 = 1, reserved: UInt8 = 0, tokenLength: Int, tokenBytes: Int? = nil) -> [UInt8] {
        var body: [UInt8] = [platform, reserved]
        body.appendLittleEndian(UInt16(tokenLength))
        body += [UInt8](repeating: 0xA5, count: tokenBytes ?? tokenLength)
        return RawFrame.make(type: FrameType.pushRegister.rawValue, requestID: 1, body: body)
    }

    /// Asserts that `frame.validate()` throws `expected`: the encoder refuses what the decoder does.
    private func assertInvalid(_ frame: Frame, _ expected: ProtocolError.Kind, line: UInt = #line) {
        XCTAssertThrowsError(try frame.validate(), line: line) { error in
            XCTAssertEqual((error as? ProtocolError)?.kind, expected, line: line)
            XCTAssertEqual((error as? ProtocolError)?.frameType, frame.type, line: line)
        }
    }

    func testRegisterRoundTripsForEveryPlatformAndTokenSize() throws {
        for platform in PushPlatform.allCases {
            for size in [1, 32, 163, ProtocolConstants.pushTokenSizeMax] {
                let frame = Frame.pushRegister(.init(platform: platform, token: (0 ..< size).map { UInt8(truncatingIfNeeded: $0 &* 7) }))
                let bytes = FrameEncoder.encode(frame, requestID: 9)
                XCTAssertEqual(bytes.count, ProtocolConstants.frameHeaderSize + ProtocolConstants.pushRegisterFixedSize + size)
                for limits in [FrameLimits.protocolMaximum, .clientFrames] {
                    XCTAssertEqual(try decodeAll(bytes, receiver: .server, limits: limits),
                                   [DecodedFrame(requestID: 9, frame: frame)], "\(platform) \(size)")
                }
            }
        }
    }

    func testPushOKRoundTripsInBothStatesAndUnregisterIsEmpty() throws {
        for registered in [false, true] {
            let frame = Frame.pushOK(.init(registered: registered))
            XCTAssertEqual(try decodeAll(FrameEncoder.encode(frame, requestID: 4), receiver: .client).map(\.frame), [frame])
        }
        let unregister = FrameEncoder.encode(.pushUnregister(.init()), requestID: 5)
        XCTAssertEqual(unregister, RawFrame.make(type: 0x0A, requestID: 5, body: []))
        XCTAssertEqual(try decodeAll(unregister, receiver: .server).map(\.frame), [.pushUnregister(.init())])
    }

    func testPlatformValuesAreTheDocumentedOnes() {
        XCTAssertEqual(PushPlatform.allCases.map(\.rawValue), [1, 2])
        XCTAssertEqual(PushPlatform.allCases.map(\.description), ["apns", "fcm"])
        XCTAssertEqual(FrameType.pushRegister.rawValue, 0x09)
        XCTAssertEqual(FrameType.pushUnregister.rawValue, 0x0A)
        XCTAssertEqual(FrameType.pushOK.rawValue, 0x89)
    }

    func testEmptyTokenIsInvalid() {
        let tokenLengthOffset = ProtocolConstants.frameHeaderSize + 2
        assertDecodeFails(rawRegister(tokenLength: 0), receiver: .server, .invalidValue(offset: tokenLengthOffset))
        assertInvalid(.pushRegister(.init(platform: .apns, token: [])), .invalidValue(offset: tokenLengthOffset))
    }

    func testTokenOfExactlyTheMaximumIsAcceptedAndOneMoreIsTooLarge() throws {
        let max = ProtocolConstants.pushTokenSizeMax
        XCTAssertEqual(try decodeAll(rawRegister(tokenLength: max), receiver: .server, limits: .clientFrames).count, 1)
        assertDecodeFails(rawRegister(tokenLength: max + 1), receiver: .server, .fieldTooLarge(length: max + 1, limit: max))
        assertInvalid(.pushRegister(.init(platform: .fcm, token: [UInt8](repeating: 1, count: max + 1))),
                      .fieldTooLarge(length: max + 1, limit: max))
        // The length is refused before the bytes are looked for.
        assertDecodeFails(rawRegister(tokenLength: Int(UInt16.max), tokenBytes: 0), receiver: .server,
                          .fieldTooLarge(length: Int(UInt16.max), limit: max))
    }

    func testUnknownPlatformsAreInvalid() {
        for platform: UInt8 in [0, 3, 0x7F, 0xFF] {
            assertDecodeFails(rawRegister(platform: platform, tokenLength: 32), receiver: .server,
                              .invalidValue(offset: ProtocolConstants.frameHeaderSize))
        }
    }

    func testTruncatedTokenIsShortAndTrailingBytesAreRefused() {
        assertDecodeFails(rawRegister(tokenLength: 32, tokenBytes: 31), receiver: .server, .shortBody)
        assertDecodeFails(rawRegister(tokenLength: 32, tokenBytes: 33), receiver: .server, .trailingBytes(count: 1))
        let unregisterWithBody = RawFrame.make(type: FrameType.pushUnregister.rawValue, requestID: 1, body: [0])
        assertDecodeFails(unregisterWithBody, receiver: .server, .trailingBytes(count: 1))
        let shortOK = RawFrame.make(type: FrameType.pushOK.rawValue, requestID: 1, body: [1, 0, 0])
        assertDecodeFails(shortOK, receiver: .client, .shortBody)
    }

    func testPushFramesTravelOnlyInTheirDirection() {
        let register = FrameEncoder.encode(.pushRegister(.init(platform: .apns, token: [1])), requestID: 1)
        assertDecodeFails(register, receiver: .client, .unexpectedFrameType(.pushRegister))
        let ok = FrameEncoder.encode(.pushOK(.init(registered: false)), requestID: 1)
        assertDecodeFails(ok, receiver: .server, .unexpectedFrameType(.pushOK))
        let zeroID = RawFrame.make(type: FrameType.pushUnregister.rawValue, requestID: 0, body: [])
        assertDecodeFails(zeroID, receiver: .server, .invalidRequestID(0))
    }

    func testRandomizedRegistersRoundTrip() throws {
        let seed = testSeed()
        var generator = SeededGenerator(seed: seed)
        for _ in 0 ..< 300 {
            let size = Int.random(in: 1 ... ProtocolConstants.pushTokenSizeMax, using: &generator)
            let token = (0 ..< size).map { _ in UInt8.random(in: 0 ... .max, using: &generator) }
            let platform = PushPlatform.allCases.randomElement(using: &generator)!
            let requestID = UInt32.random(in: 1 ... .max, using: &generator)
            let frame = Frame.pushRegister(.init(platform: platform, token: token))
            XCTAssertNoThrow(try frame.validate(limits: .clientFrames))
            let decoded = try decodeAll(FrameEncoder.encode(frame, requestID: requestID), receiver: .server, limits: .clientFrames)
            XCTAssertEqual(decoded, [DecodedFrame(requestID: requestID, frame: frame)], "seed \(seed)")
        }
    }
}
