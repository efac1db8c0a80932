import XCTest
@testable import SeqboxProtocol

/// Relationships between the constants of PROTOCOL.md that the code relies on.
final class ProtocolConstantsTests: XCTestCase {
    func testHeaderLayout() {
        XCTAssertEqual(ProtocolConstants.frameHeaderSize, 4 + 1 + 1 + 2 + 4)
        XCTAssertEqual(ProtocolConstants.frameLengthMin, ProtocolConstants.frameHeaderSize - ProtocolConstants.lengthFieldSize)
        XCTAssertEqual(ProtocolConstants.requestIDOffset, 8)
        XCTAssertEqual(ProtocolConstants.frameTypeOffset, ProtocolConstants.lengthFieldSize)
    }

    func testMagicSpellsSQBX() {
        withUnsafeBytes(of: ProtocolConstants.helloMagic.littleEndian) {
            XCTAssertEqual(Array($0), Array("SQBX".utf8))
        }
    }

    func testFixedBodySizesMatchTheEncoder() {
        let fixed: [(Frame, Int)] = [
            (.hello(.init()), ProtocolConstants.helloBodySize),
            (.helloOK(.init()), ProtocolConstants.helloOKBodySize),
            (.login(.init(user: 1, device: 1, token: [])), ProtocolConstants.loginFixedSize),
            (.loginOK(.init(newestSeq: 0, confirmedSeq: 0, deviceCursor: 0, firstSeq: 1, epoch: 1)), ProtocolConstants.loginOKBodySize),
            (.send(.init(to: 1, clientMessageID: 1, body: [])), ProtocolConstants.sendFixedSize),
            (.sendOK(.init(seq: 1, outgoingSeq: 1, timestampMs: 0)), ProtocolConstants.sendOKBodySize),
            (.pull(.init(after: 0, epoch: 0, limit: 0)), ProtocolConstants.pullBodySize),
            (.pullOK(.init(newestSeq: 0, epoch: 1, hasMore: false, records: [])), ProtocolConstants.pullOKFixedSize),
            (.truncated(.init(firstSeq: 1, newestSeq: 0, epoch: 1)), ProtocolConstants.truncatedBodySize),
            (.notify(.init(newestSeq: 0, epoch: 1)), ProtocolConstants.notifyBodySize),
            (.ack(.init(seq: 0)), ProtocolConstants.ackBodySize),
            (.ackOK(.init(seq: 0)), ProtocolConstants.ackOKBodySize),
            (.block(.init(user: 1)), ProtocolConstants.blockBodySize),
            (.unblock(.init(user: 1)), ProtocolConstants.blockBodySize),
            (.blockOK(.init(user: 1, blocked: false)), ProtocolConstants.blockOKBodySize),
            (.ping(.init(nonce: 0)), ProtocolConstants.pingBodySize),
            (.pong(.init(nonce: 0)), ProtocolConstants.pingBodySize),
            (.error(.init(code: .internal)), ProtocolConstants.errorFixedSize),
            (.goodbye(.init(reason: .normal)), ProtocolConstants.goodbyeBodySize),
        ]
        XCTAssertEqual(Set(fixed.map(\.0.type)), Set(FrameType.allCases))
        for (frame, size) in fixed {
            XCTAssertEqual(FrameEncoder.encodedSize(of: frame), ProtocolConstants.frameHeaderSize + size, "\(frame.type)")
        }
        let record = PullRecord(seq: 1, peer: 1, senderDevice: 1, clientMessageID: 1, timestampMs: 1, body: [])
        XCTAssertEqual(record.encodedSize, ProtocolConstants.pullRecordFixedSize)
    }

    func testFrameLimitCarriesAPullOKWithOneMaximalRecord() {
        XCTAssertGreaterThanOrEqual(
            ProtocolConstants.frameLengthMax,
            FrameLimits.frameLengthNeeded(messageBodySizeMax: ProtocolConstants.messageBodySizeMax))
        XCTAssertGreaterThanOrEqual(
            ProtocolConstants.frameLengthMax - ProtocolConstants.frameLengthMin - ProtocolConstants.pullOKFixedSize,
            1 << 20, "a PULL_OK can carry 1 MiB of records")
    }

    func testFieldsFitTheirLengthPrefixes() {
        XCTAssertLessThanOrEqual(ProtocolConstants.tokenSizeMax, Int(UInt16.max))
        XCTAssertLessThanOrEqual(ProtocolConstants.errorMessageSizeMax, Int(UInt16.max))
        XCTAssertLessThanOrEqual(ProtocolConstants.messageBodySizeMax, Int(UInt32.max))
        XCTAssertLessThanOrEqual(ProtocolConstants.defaultPullLimit, ProtocolConstants.pullLimitMax)
        XCTAssertLessThanOrEqual(ProtocolConstants.frameLengthMax, Int(UInt32.max))
    }

    func testTimersAreConsistent() {
        XCTAssertGreaterThanOrEqual(ProtocolConstants.defaultIdleTimeoutMs, 2 * ProtocolConstants.defaultHeartbeatIntervalMs)
        XCTAssertLessThan(ProtocolConstants.reconnectBackoffInitialMs, ProtocolConstants.reconnectBackoffMaxMs)
        XCTAssertLessThan(ProtocolConstants.replyTimeoutMs, ProtocolConstants.defaultIdleTimeoutMs)
    }

    func testErrorCodesAreDistinctAndNamed() {
        let raw = ErrorCode.allDefined.map(\.rawValue)
        XCTAssertEqual(raw, raw.sorted())
        XCTAssertEqual(Set(raw).count, raw.count)
        XCTAssertFalse(ErrorCode.allDefined.contains { $0.name.hasPrefix("unknown") })
    }

    func testProtocolErrorsMapToWireCodes() {
        XCTAssertEqual(ProtocolError(.frameTooLarge(length: 2, limit: 1)).errorCode, .frameTooLarge)
        XCTAssertEqual(ProtocolError(.payloadTooLarge(length: 2, limit: 1)).errorCode, .payloadTooLarge)
        XCTAssertEqual(ProtocolError(.shortBody).errorCode, .badFrame)
        XCTAssertTrue(ProtocolError(.frameTooShort(length: 0)).isFramingLost)
        XCTAssertFalse(ProtocolError(.payloadTooLarge(length: 2, limit: 1)).isFramingLost)
    }
}
