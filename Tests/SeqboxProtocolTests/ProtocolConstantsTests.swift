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
            (.pushRegister(.init(platform: .apns, token: [])), ProtocolConstants.pushRegisterFixedSize),
            (.pushUnregister(.init()), ProtocolConstants.pushUnregisterBodySize),
            (.pushOK(.init(registered: true)), ProtocolConstants.pushOKBodySize),
            (.storeAppend(.init(groups: [])), ProtocolConstants.storeAppendFixedSize),
            (.storeAppendOK(.init(results: [])), ProtocolConstants.storeAppendOKFixedSize),
            (.storePull(.init(user: 1, after: 0, limit: 0, epoch: 0, frameLengthMax: 0)), ProtocolConstants.storePullBodySize),
            (.storeLoginState(.init(user: 1, device: 1, fullHistory: false)), ProtocolConstants.storeLoginStateBodySize),
            (.storeAck(.init(user: 1, device: 1, seq: 0)), ProtocolConstants.storeAckBodySize),
            (.storeBlock(.init(user: 1, other: 2, blocked: false)), ProtocolConstants.storeBlockBodySize),
            (.storeCursor(.init(user: 1, device: 1)), ProtocolConstants.storeCursorBodySize),
            (.storeNewest(.init(user: 1)), ProtocolConstants.storeNewestBodySize),
            (.storeNewestOK(.init(newestSeq: 0, firstSeq: 1, confirmedSeq: 0, epoch: 1)), ProtocolConstants.storeNewestOKBodySize),
            (.storeStats(.init()), ProtocolConstants.storeStatsBodySize),
            (.storeStatsOK(.init(values: [])), ProtocolConstants.storeStatsOKFixedSize),
        ]
        XCTAssertEqual(Set(fixed.map(\.0.type)), Set(FrameType.allCases))
        for (frame, size) in fixed {
            XCTAssertEqual(FrameEncoder.encodedSize(of: frame), ProtocolConstants.frameHeaderSize + size, "\(frame.type)")
        }
        let record = PullRecord(seq: 1, peer: 1, senderDevice: 1, clientMessageID: 1, timestampMs: 1, body: [])
        XCTAssertEqual(record.encodedSize, ProtocolConstants.pullRecordFixedSize)
    }

    func testStorageElementSizesMatchTheEncoder() {
        func encoded(_ encode: (inout [UInt8]) -> Void) -> Int {
            var bytes: [UInt8] = []
            encode(&bytes)
            return bytes.count
        }
        let message = StoreMessage(user: 1, sender: 2, device: 3, clientMessageID: 4, timestampMs: 5, outgoing: true, body: [])
        XCTAssertEqual(encoded(message.encode), ProtocolConstants.storeMessageFixedSize)
        XCTAssertEqual(message.encodedSize, ProtocolConstants.storeMessageFixedSize)
        let group = StoreAppendGroup(refuseIfBlocked: true, messages: [])
        XCTAssertEqual(encoded(group.encode), ProtocolConstants.storeAppendGroupFixedSize)
        let copy = StoreCopy(seq: 1, duplicate: true, epoch: 1, timestampMs: 1)
        XCTAssertEqual(encoded(copy.encode), ProtocolConstants.storeCopySize)
        XCTAssertEqual(encoded(StoreGroupResult.stored([]).encode), ProtocolConstants.storeGroupStoredFixedSize)
        let failed = StoreGroupResult.failed(.init(code: .blocked))
        XCTAssertEqual(encoded(failed.encode), ProtocolConstants.storeGroupFailedFixedSize + ProtocolConstants.errorFixedSize)
        XCTAssertEqual(failed.encodedSize, encoded(failed.encode))
        let statistic = StoreStatistic(name: "", value: 1)
        XCTAssertEqual(encoded(statistic.encode), ProtocolConstants.storeStatisticFixedSize)
    }

    func testStorageCountsFitTheirFields() {
        XCTAssertLessThanOrEqual(ProtocolConstants.pushTokenSizeMax, Int(UInt16.max))
        XCTAssertLessThanOrEqual(ProtocolConstants.storeAppendGroupsMax, Int(UInt16.max))
        XCTAssertLessThanOrEqual(ProtocolConstants.storeAppendGroupMessagesMax, Int(UInt8.max))
        XCTAssertLessThanOrEqual(ProtocolConstants.storeStatisticsMax, Int(UInt16.max))
        XCTAssertLessThanOrEqual(ProtocolConstants.storeStatisticNameSizeMax, Int(UInt8.max))
    }

    func testEveryStoreAppendOKFitsTheProtocolFrameLimit() {
        // The largest answer: every group failed with a maximal ERROR message (PROTOCOL.md §14.4).
        let failed = ProtocolConstants.storeGroupFailedFixedSize + ProtocolConstants.errorFixedSize
            + ProtocolConstants.errorMessageSizeMax
        let stored = ProtocolConstants.storeGroupStoredFixedSize
            + ProtocolConstants.storeAppendGroupMessagesMax * ProtocolConstants.storeCopySize
        let body = ProtocolConstants.storeAppendOKFixedSize + ProtocolConstants.storeAppendGroupsMax * max(failed, stored)
        XCTAssertEqual(body, 1_024 * (1 + 10 + 1_024) + 2, "the bound PROTOCOL.md §14.4 states")
        XCTAssertLessThanOrEqual(ProtocolConstants.frameLengthMin + body, ProtocolConstants.frameLengthMax)
    }

    func testClientFrameLimitCarriesAMaximalPushRegister() {
        let register = ProtocolConstants.frameLengthMin + ProtocolConstants.pushRegisterFixedSize
            + ProtocolConstants.pushTokenSizeMax
        XCTAssertLessThanOrEqual(register, FrameLimits.clientFrames.frameLengthMax)
        XCTAssertLessThanOrEqual(register, FrameLimits.frameLengthNeeded(messageBodySizeMax: 0))
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
