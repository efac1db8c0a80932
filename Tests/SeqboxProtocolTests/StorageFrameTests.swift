import XCTest
@testable import SeqboxProtocol

/// The storage-RPC frames (PROTOCOL.md §14): randomized round trips and every limit. Each limit
/// is checked on both sides: the decoder refuses the bytes and `Frame.validate` refuses the value
/// with the same error, so an encoder never produces what a decoder refuses.
final class StorageFrameTests: XCTestCase {
    private static let nameAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789_".utf8)

    // MARK: Helpers

    /// The frame's bytes, encoded without the encoder's checks.
    private func unchecked(_ frame: Frame, requestID: UInt32 = 1) -> [UInt8] {
        var body: [UInt8] = []
        frame.payload.encode(into: &body)
        return RawFrame.make(type: frame.type.rawValue, requestID: requestID, body: body)
    }

    /// Asserts that the decoder refuses `frame`'s bytes and `validate` refuses the value, both with `expected`.
    private func assertRefused(
        _ frame: Frame, _ expected: ProtocolError.Kind, limits: FrameLimits = .protocolMaximum,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        assertDecodeFails(unchecked(frame), receiver: SampleFrames.sender(of: frame).peer, limits: limits, expected,
                          file: file, line: line)
        XCTAssertThrowsError(try frame.validate(limits: limits), file: file, line: line) { error in
            XCTAssertEqual((error as? ProtocolError)?.kind, expected, "validate", file: file, line: line)
        }
    }

    /// Asserts that `frame` passes `validate` and survives encode → decode.
    private func assertRoundTrips(
        _ frame: Frame, limits: FrameLimits = .protocolMaximum, _ context: String = "",
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        XCTAssertNoThrow(try frame.validate(limits: limits), context, file: file, line: line)
        let bytes = FrameEncoder.encode(frame, requestID: 7)
        XCTAssertEqual(bytes.count, FrameEncoder.encodedSize(of: frame), context, file: file, line: line)
        let decoded = try decodeAll(bytes, receiver: SampleFrames.sender(of: frame).peer, limits: limits)
        XCTAssertEqual(decoded, [DecodedFrame(requestID: 7, frame: frame)], context, file: file, line: line)
    }

    private func message(body: Int = 2, user: UInt64 = 1002) -> StoreMessage {
        StoreMessage(user: user, sender: 1001, device: 7, clientMessageID: 5001, timestampMs: 1,
                     outgoing: false, body: [UInt8](repeating: 0x68, count: body))
    }

    private func append(groups: Int, messagesPerGroup: Int = 1, body: Int = 0) -> Frame {
        let group = StoreAppendGroup(refuseIfBlocked: true, messages: Array(repeating: message(body: body), count: messagesPerGroup))
        return .storeAppend(.init(groups: Array(repeating: group, count: groups)))
    }

    private func copies(_ count: Int) -> StoreGroupResult {
        .stored(Array(repeating: StoreCopy(seq: 1, duplicate: false, epoch: 1, timestampMs: 1), count: count))
    }

    private func stats(_ names: [String]) -> Frame {
        .storeStatsOK(.init(values: names.map { StoreStatistic(name: $0, value: 1) }))
    }

    private let bodyStart = ProtocolConstants.frameHeaderSize

    // MARK: Round trips

    func testRandomizedStorageFramesRoundTrip() throws {
        let seed = testSeed()
        var generator = SeededGenerator(seed: seed)
        for round in 0 ..< 200 {
            for frame in randomStorageFrames(using: &generator) {
                try assertRoundTrips(frame, "seed \(seed) round \(round) \(frame.type)")
            }
        }
    }

    /// One random frame of every storage type.
    private func randomStorageFrames(using generator: inout SeededGenerator) -> [Frame] {
        func u64() -> UInt64 { UInt64.random(in: 0 ... .max, using: &generator) }
        func u32() -> UInt32 { UInt32.random(in: 0 ... .max, using: &generator) }
        func flag() -> Bool { Bool.random(using: &generator) }
        func bytes(_ range: ClosedRange<Int>) -> [UInt8] {
            (0 ..< Int.random(in: range, using: &generator)).map { _ in UInt8.random(in: 0 ... .max, using: &generator) }
        }
        let groups = (0 ..< Int.random(in: 1 ... 20, using: &generator)).map { _ in
            StoreAppendGroup(refuseIfBlocked: flag(), messages: (0 ..< Int.random(in: 1 ... 8, using: &generator)).map { _ in
                StoreMessage(user: u64(), sender: u64(), device: u64(), clientMessageID: u64(), timestampMs: u64(),
                             outgoing: flag(), body: bytes(0 ... 300))
            })
        }
        let results = (0 ..< Int.random(in: 1 ... 20, using: &generator)).map { _ -> StoreGroupResult in
            if flag() {
                return .stored((0 ..< Int.random(in: 1 ... 8, using: &generator)).map { _ in
                    StoreCopy(seq: u32(), duplicate: flag(), epoch: u32(), timestampMs: u64())
                })
            }
            let text = String(decoding: (0 ..< Int.random(in: 0 ... 40, using: &generator)).map { _ in
                UInt8.random(in: 0x20 ... 0x7E, using: &generator)
            }, as: UTF8.self) + (flag() ? "é☃" : "")
            return .failed(.init(code: ErrorCode(UInt16.random(in: 0 ... .max, using: &generator)), closing: flag(),
                                 retryAfterMs: u32(), message: text))
        }
        let values = (0 ..< Int.random(in: 0 ... 20, using: &generator)).map { _ in
            let length = Int.random(in: 1 ... ProtocolConstants.storeStatisticNameSizeMax, using: &generator)
            let name = String(decoding: (0 ..< length).map { _ in Self.nameAlphabet.randomElement(using: &generator)! }, as: UTF8.self)
            return StoreStatistic(name: name, value: u64())
        }
        return [
            .storeAppend(.init(groups: groups)),
            .storeAppendOK(.init(results: results)),
            .storePull(.init(user: u64(), after: u32(), limit: UInt16.random(in: 0 ... .max, using: &generator),
                             epoch: u32(), frameLengthMax: u32())),
            .storeLoginState(.init(user: u64(), device: u64(), fullHistory: flag())),
            .storeAck(.init(user: u64(), device: u64(), seq: u32())),
            .storeBlock(.init(user: u64(), other: u64(), blocked: flag())),
            .storeCursor(.init(user: u64(), device: u64())),
            .storeNewest(.init(user: u64())),
            .storeNewestOK(.init(newestSeq: u32(), firstSeq: u32(), confirmedSeq: u32(), epoch: u32())),
            .storeStats(.init()),
            .storeStatsOK(.init(values: values)),
        ]
    }

    func testStorageFrameTypesAreTheDocumentedOnes() {
        let expected: [FrameType: UInt8] = [
            .storeAppend: 0x41, .storePull: 0x42, .storeLoginState: 0x43, .storeAck: 0x44, .storeBlock: 0x45,
            .storeCursor: 0x46, .storeNewest: 0x47, .storeStats: 0x48,
            .storeAppendOK: 0xC1, .storeNewestOK: 0xC7, .storeStatsOK: 0xC8,
        ]
        for (type, raw) in expected {
            XCTAssertEqual(type.rawValue, raw, "\(type)")
            XCTAssertEqual(type.requestIDRule, .nonZero, "\(type)")
        }
    }

    // MARK: STORE_APPEND

    func testGroupCountMustBeOneToTheMaximum() throws {
        let max = ProtocolConstants.storeAppendGroupsMax
        assertRefused(append(groups: 0), .invalidValue(offset: bodyStart))
        assertRefused(append(groups: max + 1), .fieldTooLarge(length: max + 1, limit: max))
        try assertRoundTrips(append(groups: max))
        try assertRoundTrips(append(groups: 1))
    }

    func testMessageCountMustBeOneToTheMaximumInEveryGroup() throws {
        let max = ProtocolConstants.storeAppendGroupMessagesMax
        assertRefused(append(groups: 1, messagesPerGroup: 0), .invalidValue(offset: bodyStart + 3))
        assertRefused(append(groups: 1, messagesPerGroup: max + 1), .fieldTooLarge(length: max + 1, limit: max))
        try assertRoundTrips(append(groups: 3, messagesPerGroup: max))
        // An empty second group: its count is after the first group (2 + one message of 48 + 2).
        let second = Frame.storeAppend(.init(groups: [
            StoreAppendGroup(refuseIfBlocked: false, messages: [message(body: 2)]),
            StoreAppendGroup(refuseIfBlocked: false, messages: []),
        ]))
        assertRefused(second, .invalidValue(offset: bodyStart + 2 + (2 + 50) + 1))
    }

    func testMessageBodyOfExactlyTheLimitIsAcceptedAndOneMoreIsTooLarge() throws {
        let max = ProtocolConstants.messageBodySizeMax
        try assertRoundTrips(append(groups: 1, body: max))
        assertRefused(append(groups: 1, body: max + 1), .payloadTooLarge(length: max + 1, limit: max))
        let small = FrameLimits(frameLengthMax: ProtocolConstants.frameLengthMax, messageBodySizeMax: 1000)
        try assertRoundTrips(append(groups: 2, messagesPerGroup: 2, body: 1000), limits: small)
        let tooLarge = Frame.storeAppend(.init(groups: [
            StoreAppendGroup(refuseIfBlocked: false, messages: [message(body: 10)]),
            StoreAppendGroup(refuseIfBlocked: false, messages: [message(body: 10), message(body: 1001)]),
        ]))
        assertRefused(tooLarge, .payloadTooLarge(length: 1001, limit: 1000), limits: small)
    }

    func testStoreAppendAboveTheFrameLimitIsRefusedBeforeBuffering() {
        let frame = append(groups: 20, body: ProtocolConstants.messageBodySizeMax)
        let length = FrameEncoder.encodedSize(of: frame) - ProtocolConstants.lengthFieldSize
        XCTAssertGreaterThan(length, ProtocolConstants.frameLengthMax)
        let expected = ProtocolError.Kind.frameTooLarge(length: length, limit: ProtocolConstants.frameLengthMax)
        XCTAssertThrowsError(try frame.validate()) { XCTAssertEqual(($0 as? ProtocolError)?.kind, expected) }
        assertDecodeFails(Array(unchecked(frame).prefix(ProtocolConstants.frameHeaderSize)), receiver: .server, expected)
    }

    func testGroupCountAboveTheBytesPresentIsShortBeforeAllocating() {
        var body: [UInt8] = []
        body.appendLittleEndian(UInt16(ProtocolConstants.storeAppendGroupsMax))
        body += [0, 1]
        let bytes = RawFrame.make(type: FrameType.storeAppend.rawValue, requestID: 1, body: body)
        assertDecodeFails(bytes, receiver: .server, .shortBody)
    }

    // MARK: STORE_APPEND_OK

    func testResultCountMustBeOneToTheMaximum() throws {
        let max = ProtocolConstants.storeAppendGroupsMax
        assertRefused(.storeAppendOK(.init(results: [])), .invalidValue(offset: bodyStart))
        assertRefused(.storeAppendOK(.init(results: Array(repeating: copies(1), count: max + 1))),
                      .fieldTooLarge(length: max + 1, limit: max))
        try assertRoundTrips(.storeAppendOK(.init(results: Array(repeating: copies(8), count: max))))
    }

    func testCopyCountMustBeOneToTheGroupMaximum() throws {
        let max = ProtocolConstants.storeAppendGroupMessagesMax
        assertRefused(.storeAppendOK(.init(results: [copies(0)])), .invalidValue(offset: bodyStart + 3))
        assertRefused(.storeAppendOK(.init(results: [copies(max + 1)])), .fieldTooLarge(length: max + 1, limit: max))
        let failed = StoreGroupResult.failed(.init(code: .unavailable, retryAfterMs: 50, message: "busy"))
        assertRefused(.storeAppendOK(.init(results: [failed, copies(0)])),
                      .invalidValue(offset: bodyStart + 2 + failed.encodedSize + 1))
    }

    func testUnknownResultStatusIsInvalid() {
        for status: UInt8 in [2, 0x80, 0xFF] {
            var body: [UInt8] = []
            body.appendLittleEndian(UInt16(1))
            body.append(status)
            body += [UInt8](repeating: 0, count: 20)
            let bytes = RawFrame.make(type: FrameType.storeAppendOK.rawValue, requestID: 1, body: body)
            assertDecodeFails(bytes, receiver: .client, .invalidValue(offset: bodyStart + 2))
        }
    }

    func testFailedResultIsAnErrorBodyWithItsChecks() throws {
        let max = ProtocolConstants.errorMessageSizeMax
        let longest = String(repeating: "x", count: max)
        let closing = StoreGroupResult.failed(.init(code: .internal, closing: true, retryAfterMs: 9, message: longest))
        try assertRoundTrips(.storeAppendOK(.init(results: [closing, copies(2)])))
        var failed: [UInt8] = [ProtocolConstants.storeGroupStatusFailed]
        failed.appendLittleEndian(ErrorCode.blocked.rawValue)
        failed += [0, 0]
        failed.appendLittleEndian(UInt32(0))
        var body: [UInt8] = []
        body.appendLittleEndian(UInt16(1))
        var badText = body + failed
        badText.appendLittleEndian(UInt16(2))
        badText += [0xC3, 0x28]
        assertDecodeFails(RawFrame.make(type: FrameType.storeAppendOK.rawValue, requestID: 1, body: badText),
                          receiver: .client, .invalidUTF8)
        var tooLong = body + failed
        tooLong.appendLittleEndian(UInt16(max + 1))
        tooLong += [UInt8](repeating: 0x78, count: max + 1)
        assertDecodeFails(RawFrame.make(type: FrameType.storeAppendOK.rawValue, requestID: 1, body: tooLong),
                          receiver: .client, .fieldTooLarge(length: max + 1, limit: max))
    }

    func testLargestStoreAppendOKFitsTheProtocolFrameLimit() throws {
        let message = String(repeating: "m", count: ProtocolConstants.errorMessageSizeMax)
        let failed = StoreGroupResult.failed(.init(code: .unavailable, message: message))
        let frame = Frame.storeAppendOK(.init(results: Array(repeating: failed, count: ProtocolConstants.storeAppendGroupsMax)))
        XCTAssertEqual(FrameEncoder.encodedSize(of: frame), ProtocolConstants.frameHeaderSize + 1_024 * (1 + 10 + 1_024) + 2)
        try assertRoundTrips(frame)
    }

    // MARK: STORE_STATS_OK

    func testStatisticCountOfTheMaximumIsAcceptedAndOneMoreIsTooLarge() throws {
        let max = ProtocolConstants.storeStatisticsMax
        let longName = String(repeating: "z", count: ProtocolConstants.storeStatisticNameSizeMax)
        try assertRoundTrips(stats(Array(repeating: longName, count: max)))
        try assertRoundTrips(stats([]))
        assertRefused(stats(Array(repeating: "a", count: max + 1)), .fieldTooLarge(length: max + 1, limit: max))
    }

    func testStatisticNameLengthMustBeOneToTheMaximum() throws {
        let max = ProtocolConstants.storeStatisticNameSizeMax
        assertRefused(stats([""]), .invalidValue(offset: bodyStart + 2))
        assertRefused(stats([String(repeating: "a", count: max + 1)]), .fieldTooLarge(length: max + 1, limit: max))
        assertRefused(stats(["ok", ""]), .invalidValue(offset: bodyStart + 2 + 11))
        XCTAssertTrue(StoreStatistic.isValidName(String(repeating: "a", count: max)))
        XCTAssertFalse(StoreStatistic.isValidName(String(repeating: "a", count: max + 1)))
        XCTAssertFalse(StoreStatistic.isValidName(""))
    }

    func testStatisticNamesOutsideTheAlphabetAreInvalid() throws {
        for name in ["Appends", "a-b", "a b", "a.b", "é", "x\u{0}", "☃", "appends\n"] {
            assertRefused(stats([name]), .invalidValue(offset: bodyStart + 3))
            XCTAssertFalse(StoreStatistic.isValidName(name), name)
        }
        for name in ["appends", "bytes_written_2", "_", "0"] {
            XCTAssertTrue(StoreStatistic.isValidName(name), name)
            try assertRoundTrips(stats([name]))
        }
    }

    // MARK: Truncation

    func testEveryProperPrefixOfAVariableBodyIsShort() {
        let variable: [FrameType] = [.storeAppend, .storeAppendOK, .storeStatsOK, .pushRegister]
        for sample in SampleFrames.all where variable.contains(sample.frame.type) {
            let encoded = FrameEncoder.encode(sample.frame, requestID: sample.requestID)
            let body = Array(encoded[ProtocolConstants.frameHeaderSize...])
            for cut in 0 ..< body.count {
                let bytes = RawFrame.rebody(encoded) { _ in Array(body.prefix(cut)) }
                assertDecodeFails(bytes, receiver: SampleFrames.sender(of: sample.frame).peer, .shortBody)
            }
        }
    }
}
