import XCTest
@testable import SeqboxProtocol

/// Boundary sizes, taken from the constants (PROTOCOL.md §6 "Limits").
final class LimitTests: XCTestCase {
    private func send(bodySize: Int) -> Frame {
        .send(.init(to: 2, clientMessageID: 1, body: [UInt8](repeating: 0x42, count: bodySize)))
    }

    /// A SEND frame with a body of `bodySize`, built by hand so the encoder's checks do not apply.
    private func rawSend(bodySize: Int) -> [UInt8] {
        var body: [UInt8] = []
        body.appendLittleEndian(UInt64(2))
        body.appendLittleEndian(UInt64(1))
        body.appendLittleEndian(UInt32(bodySize))
        body += [UInt8](repeating: 0x42, count: bodySize)
        return RawFrame.make(type: FrameType.send.rawValue, requestID: 1, body: body)
    }

    func testSendBodyOfExactlyTheMaximumIsAccepted() throws {
        let max = ProtocolConstants.messageBodySizeMax
        for limits in [FrameLimits.protocolMaximum, .clientFrames] {
            let decoded = try decodeAll(rawSend(bodySize: max), receiver: .server, limits: limits)
            XCTAssertEqual(decoded.map(\.frame), [send(bodySize: max)])
        }
        XCTAssertNoThrow(try send(bodySize: max).validate())
    }

    func testSendBodyOneAboveTheMaximumIsPayloadTooLarge() throws {
        let max = ProtocolConstants.messageBodySizeMax
        assertDecodeFails(rawSend(bodySize: max + 1), receiver: .server,
                          .payloadTooLarge(length: max + 1, limit: max))
        XCTAssertThrowsError(try send(bodySize: max + 1).validate()) { error in
            XCTAssertEqual((error as? ProtocolError)?.kind, .payloadTooLarge(length: max + 1, limit: max))
            XCTAssertEqual((error as? ProtocolError)?.errorCode, .payloadTooLarge)
        }
    }

    func testPayloadTooLargeSkipsTheFrameSoTheServerCanAnswerAndContinue() throws {
        let max = ProtocolConstants.messageBodySizeMax
        let ping = FrameEncoder.encode(.ping(.init(nonce: 3)), requestID: 2)
        var decoder = FrameDecoder(receiver: .server)
        decoder.append(rawSend(bodySize: max + 1) + ping)
        XCTAssertThrowsError(try decoder.next()) { error in
            XCTAssertEqual((error as? ProtocolError)?.requestID, 1)
        }
        XCTAssertEqual(try decoder.next(), DecodedFrame(requestID: 2, frame: .ping(.init(nonce: 3))))
    }

    func testSmallerServerBodyLimitIsEnforced() throws {
        let limits = FrameLimits(frameLengthMax: ProtocolConstants.frameLengthMax, messageBodySizeMax: 1000)
        XCTAssertNoThrow(try decodeAll(rawSend(bodySize: 1000), receiver: .server, limits: limits))
        assertDecodeFails(rawSend(bodySize: 1001), receiver: .server, limits: limits,
                          .payloadTooLarge(length: 1001, limit: 1000))
        XCTAssertThrowsError(try send(bodySize: 1001).validate(limits: limits))
    }

    func testFrameOfExactlyTheLimitIsAcceptedAndOneMoreIsTooLarge() throws {
        let limits = FrameLimits.clientFrames
        let fill = limits.frameLengthMax - ProtocolConstants.frameLengthMin - ProtocolConstants.sendFixedSize
        // A SEND whose frame length is exactly the limit passes framing and reaches the body check
        // (its body is above the body limit); one byte more fails framing.
        XCTAssertGreaterThan(fill, ProtocolConstants.messageBodySizeMax)
        let exact = rawSend(bodySize: fill)
        XCTAssertEqual(exact.count, ProtocolConstants.lengthFieldSize + limits.frameLengthMax)
        assertDecodeFails(exact, receiver: .server, limits: limits,
                          .payloadTooLarge(length: fill, limit: ProtocolConstants.messageBodySizeMax))
        assertDecodeFails(rawSend(bodySize: fill + 1), receiver: .server, limits: limits,
                          .frameTooLarge(length: limits.frameLengthMax + 1, limit: limits.frameLengthMax))
    }

    func testPullOKOfExactlyTheProtocolFrameLimitRoundTrips() throws {
        // Records of maximal bodies, then one record sized so the frame length is exactly the limit.
        let max = ProtocolConstants.messageBodySizeMax
        var records: [PullRecord] = []
        var length = ProtocolConstants.frameLengthMin + Frame.PullOK.emptyBodySize
        var seq: UInt32 = 1
        func record(_ bodySize: Int) -> PullRecord {
            defer { seq += 1 }
            return PullRecord(seq: seq, peer: 2, senderDevice: 3, clientMessageID: UInt64(seq), timestampMs: 0,
                              body: [UInt8](repeating: UInt8(truncatingIfNeeded: seq), count: bodySize))
        }
        while length + ProtocolConstants.pullRecordFixedSize + max <= ProtocolConstants.frameLengthMax {
            records.append(record(max))
            length += records.last!.encodedSize
        }
        let rest = ProtocolConstants.frameLengthMax - length - ProtocolConstants.pullRecordFixedSize
        XCTAssertGreaterThanOrEqual(rest, 0)
        records.append(record(rest))
        let full = Frame.pullOK(.init(newestSeq: seq - 1, epoch: 1, hasMore: false, records: records))
        XCTAssertNoThrow(try full.validate())
        let bytes = FrameEncoder.encode(full, requestID: 1)
        XCTAssertEqual(bytes.count, ProtocolConstants.lengthFieldSize + ProtocolConstants.frameLengthMax)
        XCTAssertEqual(try decodeAll(bytes, receiver: .client).map(\.frame), [full])

        var tooMany = records
        tooMany.append(record(0))
        let over = Frame.pullOK(.init(newestSeq: seq - 1, epoch: 1, hasMore: false, records: tooMany))
        XCTAssertThrowsError(try over.validate()) { error in
            guard case .frameTooLarge = (error as? ProtocolError)?.kind else { return XCTFail("\(error)") }
        }
    }

    func testPullRecordBodyAboveTheLimitIsPayloadTooLarge() {
        let limits = FrameLimits(messageBodySizeMax: 10)
        let frame = Frame.pullOK(.init(newestSeq: 1, epoch: 1, hasMore: false, records: [
            PullRecord(seq: 1, peer: 2, senderDevice: 3, clientMessageID: 4, timestampMs: 5, body: Array(repeating: 1, count: 11)),
        ]))
        let bytes = FrameEncoder.encode(frame, requestID: 1)
        assertDecodeFails(bytes, receiver: .client, limits: limits, .payloadTooLarge(length: 11, limit: 10))
        XCTAssertThrowsError(try frame.validate(limits: limits))
    }

    func testTokenOfExactlyTheMaximumIsAcceptedAndOneMoreIsRejected() throws {
        let max = ProtocolConstants.tokenSizeMax
        let login = Frame.login(.init(user: 1, device: 2, token: [UInt8](repeating: 9, count: max)))
        XCTAssertNoThrow(try login.validate())
        XCTAssertEqual(try decodeAll(FrameEncoder.encode(login, requestID: 1), receiver: .server).map(\.frame), [login])

        var body: [UInt8] = []
        body.appendLittleEndian(UInt64(1))
        body.appendLittleEndian(UInt64(2))
        body += [0, 0]
        body.appendLittleEndian(UInt16(max + 1))
        body += [UInt8](repeating: 9, count: max + 1)
        let bytes = RawFrame.make(type: FrameType.login.rawValue, requestID: 1, body: body)
        assertDecodeFails(bytes, receiver: .server, .fieldTooLarge(length: max + 1, limit: max))
        let tooLong = Frame.login(.init(user: 1, device: 2, token: [UInt8](repeating: 9, count: max + 1)))
        XCTAssertThrowsError(try tooLong.validate())
    }

    func testErrorMessageOfExactlyTheMaximumIsAcceptedAndOneMoreIsRejected() throws {
        let max = ProtocolConstants.errorMessageSizeMax
        let exact = Frame.error(.init(code: .internal, message: String(repeating: "x", count: max)))
        XCTAssertEqual(try decodeAll(FrameEncoder.encode(exact, requestID: 0), receiver: .client).map(\.frame), [exact])

        var body: [UInt8] = []
        body.appendLittleEndian(ErrorCode.internal.rawValue)
        body += [0, 0]
        body.appendLittleEndian(UInt32(0))
        body.appendLittleEndian(UInt16(max + 1))
        body += [UInt8](repeating: 0x78, count: max + 1)
        let bytes = RawFrame.make(type: FrameType.error.rawValue, requestID: 0, body: body)
        assertDecodeFails(bytes, receiver: .client, .fieldTooLarge(length: max + 1, limit: max))
    }

    func testLongErrorMessagesAreCutAtACharacterBoundary() {
        let max = ProtocolConstants.errorMessageSizeMax
        XCTAssertEqual(Frame.ErrorReport(code: .internal, message: String(repeating: "x", count: max + 5)).message.utf8.count, max)
        // "☃" is 3 UTF-8 bytes: the cut must not split one.
        let snowmen = Frame.ErrorReport(code: .internal, message: String(repeating: "☃", count: max))
        XCTAssertEqual(snowmen.message.utf8.count, max / 3 * 3)
        XCTAssertTrue(snowmen.message.allSatisfy { $0 == "☃" })
    }

    func testClientFrameLimitCoversEveryClientFrame() {
        let maximalSend = ProtocolConstants.frameLengthMin + ProtocolConstants.sendFixedSize + ProtocolConstants.messageBodySizeMax
        let maximalLogin = ProtocolConstants.frameLengthMin + ProtocolConstants.loginFixedSize + ProtocolConstants.tokenSizeMax
        XCTAssertGreaterThanOrEqual(FrameLimits.clientFrames.frameLengthMax, maximalSend)
        XCTAssertGreaterThanOrEqual(FrameLimits.clientFrames.frameLengthMax, maximalLogin)
        XCTAssertLessThan(FrameLimits.clientFrames.frameLengthMax, ProtocolConstants.frameLengthMax / 10)
    }
}
