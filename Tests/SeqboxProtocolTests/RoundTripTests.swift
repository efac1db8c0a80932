import XCTest
@testable import SeqboxProtocol

/// Every frame type survives encode → decode unchanged (PROTOCOL.md §5).
final class RoundTripTests: XCTestCase {
    func testSamplesCoverEveryFrameType() {
        let sampled = Set(SampleFrames.all.map(\.frame.type))
        XCTAssertEqual(sampled, Set(FrameType.allCases))
    }

    func testEveryFrameTypeRoundTrips() throws {
        for sample in SampleFrames.all {
            let bytes = FrameEncoder.encode(sample.frame, requestID: sample.requestID)
            let receiver = SampleFrames.sender(of: sample.frame).peer
            let decoded = try decodeAll(bytes, receiver: receiver)
            XCTAssertEqual(decoded, [sample], "\(sample.frame.type)")
        }
    }

    func testEncodedSizeMatchesBytesAndLengthField() {
        for sample in SampleFrames.all {
            let bytes = FrameEncoder.encode(sample.frame, requestID: sample.requestID)
            XCTAssertEqual(bytes.count, FrameEncoder.encodedSize(of: sample.frame), "\(sample.frame.type)")
            let length = bytes.withUnsafeBytes { FrameHeader.length(in: $0, at: 0) }
            XCTAssertEqual(length, bytes.count - ProtocolConstants.lengthFieldSize)
            XCTAssertEqual(bytes[ProtocolConstants.frameTypeOffset], sample.frame.type.rawValue)
        }
    }

    func testEncodeIntoAppendsAfterExistingBytes() throws {
        var output: [UInt8] = [0xAA]
        let ping = Frame.ping(.init(nonce: 1))
        FrameEncoder.encode(ping, requestID: 1, into: &output)
        XCTAssertEqual(output.first, 0xAA)
        XCTAssertEqual(Array(output.dropFirst()), FrameEncoder.encode(ping, requestID: 1))
    }

    func testGoodbyeDecodesOnBothSides() throws {
        let goodbye = Frame.goodbye(.init(reason: .normal))
        let bytes = FrameEncoder.encode(goodbye, requestID: 0)
        for receiver in Endpoint.allCases {
            XCTAssertEqual(try decodeAll(bytes, receiver: receiver).map(\.frame), [goodbye])
        }
    }

    func testFlagsRoundTripInBothStates() throws {
        let frames: [(Frame, UInt32)] = [
            (.login(.init(user: 1, device: 2, fullHistory: false, token: [])), 1),
            (.sendOK(.init(seq: 1, outgoingSeq: 0, timestampMs: 0, duplicate: false)), 1),
            (.pullOK(.init(newestSeq: 0, epoch: 1, hasMore: false, records: [])), 1),
            (.blockOK(.init(user: 1, blocked: false)), 1),
            (.error(.init(code: .badFrame, closing: false)), 0),
            (.error(.init(code: .rateLimited, closing: true)), 0),
        ]
        for (frame, requestID) in frames {
            let bytes = FrameEncoder.encode(frame, requestID: requestID)
            XCTAssertEqual(try decodeAll(bytes, receiver: SampleFrames.sender(of: frame).peer).map(\.frame), [frame])
        }
    }

    func testUnknownErrorCodesAndGoodbyeReasonsDecode() throws {
        let error = Frame.error(.init(code: ErrorCode(999), closing: true, message: ""))
        let goodbye = Frame.goodbye(.init(reason: GoodbyeReason(77)))
        let bytes = FrameEncoder.encode(error, requestID: 0) + FrameEncoder.encode(goodbye, requestID: 0)
        XCTAssertEqual(try decodeAll(bytes, receiver: .client).map(\.frame), [error, goodbye])
        XCTAssertEqual(ErrorCode(999).name, "unknown(999)")
        XCTAssertEqual(GoodbyeReason(77).name, "unknown(77)")
    }

    func testErrorReportClosingDefaultsToTheCode() {
        XCTAssertTrue(Frame.ErrorReport(code: .authFailed).closing)
        XCTAssertFalse(Frame.ErrorReport(code: .rateLimited).closing)
        XCTAssertFalse(Frame.ErrorReport(code: .authFailed, closing: false).closing)
    }

    func testHelloNegotiatesTheNewestCommonVersion() {
        XCTAssertEqual(Frame.Hello().negotiatedVersion, ProtocolConstants.protocolVersion)
        XCTAssertEqual(Frame.Hello(versionMin: 1, versionMax: 9).negotiatedVersion, ProtocolConstants.protocolVersion)
        XCTAssertNil(Frame.Hello(versionMin: 2, versionMax: 9).negotiatedVersion)
        XCTAssertNil(Frame.Hello(versionMin: 0, versionMax: 0).negotiatedVersion)
    }
}
