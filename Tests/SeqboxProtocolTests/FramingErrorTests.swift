import XCTest
@testable import SeqboxProtocol

/// Header-level rejections and what the decoder does after them (PROTOCOL.md §2).
final class FramingErrorTests: XCTestCase {
    private let ping = FrameEncoder.encode(.ping(.init(nonce: 1)), requestID: 1)

    func testLengthBelowTheHeaderIsFrameTooShort() {
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(UInt32(ProtocolConstants.frameLengthMin - 1))
        bytes += [UInt8](repeating: 0, count: 16)
        assertDecodeFails(bytes, receiver: .server, .frameTooShort(length: ProtocolConstants.frameLengthMin - 1))
        assertDecodeFails([0, 0, 0, 0], receiver: .server, .frameTooShort(length: 0))
    }

    func testDeclaredLengthAboveTheLimitIsRejectedFromTheLengthFieldAlone() {
        var decoder = FrameDecoder(receiver: .client)
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(UInt32(ProtocolConstants.frameLengthMax + 1))
        decoder.append(bytes)  // Only the 4 length bytes: nothing of the body is needed.
        XCTAssertThrowsError(try decoder.next()) { error in
            XCTAssertEqual((error as? ProtocolError)?.kind,
                           .frameTooLarge(length: ProtocolConstants.frameLengthMax + 1, limit: ProtocolConstants.frameLengthMax))
            XCTAssertEqual((error as? ProtocolError)?.errorCode, .frameTooLarge)
        }
        XCTAssertEqual(decoder.bufferedByteCount, 0, "nothing of a refused frame stays buffered")
    }

    func testMaximalDeclaredLengthIsRejected() {
        assertDecodeFails([0xFF, 0xFF, 0xFF, 0xFF], receiver: .client,
                          .frameTooLarge(length: Int(UInt32.max), limit: ProtocolConstants.frameLengthMax))
    }

    func testFramingLossIsStickyAndDiscardsInput() {
        var decoder = FrameDecoder(receiver: .server)
        decoder.append([0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertThrowsError(try decoder.next())
        decoder.append(ping)
        XCTAssertEqual(decoder.bufferedByteCount, 0)
        XCTAssertThrowsError(try decoder.next()) { error in
            XCTAssertTrue((error as? ProtocolError)?.isFramingLost ?? false)
        }
    }

    func testUnknownFrameTypesAreRejected() {
        let unknown: [UInt8] = [0x00, 0x0B, 0x40, 0x49, 0x7E, 0x80, 0x87, 0x8A, 0x93, 0xC0, 0xC2, 0xC9, 0xFF]
        for type in unknown {
            XCTAssertNil(FrameType(rawValue: type))
            let bytes = RawFrame.make(type: type, requestID: 1, body: [])
            assertDecodeFails(bytes, receiver: .server, .unknownFrameType(type))
            assertDecodeFails(bytes, receiver: .client, .unknownFrameType(type))
        }
    }

    func testFramesFromTheWrongSideAreRejected() {
        for sample in SampleFrames.all where sample.frame.type != .goodbye {
            let bytes = FrameEncoder.encode(sample.frame, requestID: sample.requestID)
            let wrongReceiver = SampleFrames.sender(of: sample.frame)
            assertDecodeFails(bytes, receiver: wrongReceiver, .unexpectedFrameType(sample.frame.type))
        }
    }

    func testNonZeroHeaderFlagsOrReservedAreRejected() {
        var flagged = ping
        flagged[5] = 0x01
        assertDecodeFails(flagged, receiver: .server, .reservedBitsSet(offset: 5))
        var reserved = ping
        reserved[7] = 0x80
        assertDecodeFails(reserved, receiver: .server, .reservedBitsSet(offset: 6))
    }

    func testRequestIDRulesAreEnforced() {
        let request = RawFrame.make(type: FrameType.ping.rawValue, requestID: 0, body: [UInt8](repeating: 0, count: 8))
        assertDecodeFails(request, receiver: .server, .invalidRequestID(0))
        let reply = RawFrame.make(type: FrameType.ackOK.rawValue, requestID: 0, body: [0, 0, 0, 0])
        assertDecodeFails(reply, receiver: .client, .invalidRequestID(0))
        let notify = RawFrame.make(type: FrameType.notify.rawValue, requestID: 5, body: [UInt8](repeating: 0, count: 8))
        assertDecodeFails(notify, receiver: .client, .invalidRequestID(5))
        let goodbye = RawFrame.make(type: FrameType.goodbye.rawValue, requestID: 5, body: [1, 0, 0, 0, 0, 0, 0, 0])
        assertDecodeFails(goodbye, receiver: .server, .invalidRequestID(5))
        for requestID: UInt32 in [0, 5] {
            let error = FrameEncoder.encode(.error(.init(code: .internal)), requestID: requestID)
            XCTAssertNoThrow(try decodeAll(error, receiver: .client))
        }
    }

    func testDecoderContinuesWithTheNextFrameAfterABadFrame() throws {
        var bad = ping
        bad[5] = 0x01
        var decoder = FrameDecoder(receiver: .server)
        decoder.append(bad + ping)
        XCTAssertThrowsError(try decoder.next()) { error in
            let error = error as? ProtocolError
            XCTAssertEqual(error?.requestID, 1, "the error names the frame's request")
            XCTAssertEqual(error?.frameType, .ping)
            XCTAssertEqual(error?.isFramingLost, false)
            XCTAssertEqual(error?.errorCode, .badFrame)
        }
        XCTAssertEqual(try decoder.next()?.frame, .ping(.init(nonce: 1)))
        XCTAssertNil(try decoder.next())
    }

    func testFrameTypeDirectionsFollowTheHighBit() {
        for type in FrameType.allCases where type != .goodbye {
            XCTAssertNotEqual(type.isSent(by: .client), type.isSent(by: .server), "\(type)")
            XCTAssertEqual(type.isSent(by: .server), type.rawValue >= 0x80, "\(type)")
        }
        XCTAssertTrue(FrameType.goodbye.isSent(by: .client) && FrameType.goodbye.isSent(by: .server))
    }
}
