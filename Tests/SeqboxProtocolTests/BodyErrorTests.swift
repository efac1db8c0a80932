import XCTest
@testable import SeqboxProtocol

/// Body-level rejections (PROTOCOL.md §2 and §5): short, long, reserved bits, bad text.
final class BodyErrorTests: XCTestCase {
    /// Samples with at least one body byte: an empty body cannot be cut.
    private let samplesWithBodies = SampleFrames.all.filter { FrameEncoder.encodedSize(of: $0.frame) > ProtocolConstants.frameHeaderSize }

    func testEveryFrameTypeRejectsAShortBody() {
        for sample in samplesWithBodies {
            let bytes = RawFrame.rebody(FrameEncoder.encode(sample.frame, requestID: sample.requestID)) {
                Array($0.dropLast())
            }
            assertDecodeFails(bytes, receiver: SampleFrames.sender(of: sample.frame).peer, .shortBody)
        }
    }

    func testEveryFrameTypeRejectsAnEmptyBody() {
        for sample in samplesWithBodies {
            let bytes = RawFrame.rebody(FrameEncoder.encode(sample.frame, requestID: sample.requestID)) { _ in [] }
            assertDecodeFails(bytes, receiver: SampleFrames.sender(of: sample.frame).peer, .shortBody)
        }
    }

    func testEveryFrameTypeRejectsTrailingBytes() {
        for sample in SampleFrames.all {
            let bytes = RawFrame.rebody(FrameEncoder.encode(sample.frame, requestID: sample.requestID)) {
                $0 + [0, 0, 0]
            }
            assertDecodeFails(bytes, receiver: SampleFrames.sender(of: sample.frame).peer, .trailingBytes(count: 3))
        }
    }

    /// Body fields that must be zero, or have undefined flag bits, by frame type and body offset.
    private let reservedFields: [(FrameType, Int)] = [
        (.helloOK, 22),
        (.login, 16), (.login, 17),
        (.sendOK, 16), (.sendOK, 17), (.sendOK, 18),
        (.pull, 10),
        (.pullOK, 8), (.pullOK, 9),
        (.pullOK, 12 + 4), (.pullOK, 12 + 5), (.pullOK, 12 + 6),  // first record
        (.blockOK, 8), (.blockOK, 9), (.blockOK, 10),
        (.error, 2), (.error, 3),
        (.goodbye, 2),
        (.pushRegister, 1),
        (.pushOK, 0), (.pushOK, 1), (.pushOK, 2),
        (.storeAppend, 2),  // first group's flags
        (.storeAppend, 4 + 40), (.storeAppend, 4 + 41), (.storeAppend, 4 + 42),  // its first message
        (.storeAppendOK, 4 + 4), (.storeAppendOK, 4 + 5), (.storeAppendOK, 4 + 6),  // first copy
        (.storeAppendOK, 4 + 2 * 20 + 3), (.storeAppendOK, 4 + 2 * 20 + 4),  // failed result's ERROR flags
        (.storePull, 18),
        (.storeLoginState, 16), (.storeLoginState, 17), (.storeLoginState, 18),
        (.storeBlock, 16), (.storeBlock, 17), (.storeBlock, 18),
    ]

    func testNonZeroReservedFieldsAndUndefinedFlagBitsAreRejected() throws {
        for (type, bodyOffset) in reservedFields {
            let sample = try XCTUnwrap(SampleFrames.all.first { $0.frame.type == type })
            var bytes = FrameEncoder.encode(sample.frame, requestID: sample.requestID)
            let offset = ProtocolConstants.frameHeaderSize + bodyOffset
            bytes[offset] |= 0x80  // Bit 7 is undefined in every flags byte, too.
            assertDecodeFails(bytes, receiver: SampleFrames.sender(of: sample.frame).peer,
                              .reservedBitsSet(offset: offset))
        }
    }

    func testHelloWithoutTheMagicIsRejected() {
        var bytes = FrameEncoder.encode(.hello(.init()), requestID: 1)
        bytes[ProtocolConstants.frameHeaderSize] = 0x47  // "G", as in "GET / HTTP/1.1"
        assertDecodeFails(bytes, receiver: .server, .badMagic(0x5842_5147))
    }

    func testErrorMessageMustBeValidUTF8() {
        var body: [UInt8] = []
        body.appendLittleEndian(ErrorCode.internal.rawValue)
        body += [0, 0]
        body.appendLittleEndian(UInt32(0))
        body.appendLittleEndian(UInt16(3))
        body += [0x61, 0xC3, 0x28]  // "a", then a broken two-byte sequence.
        let bytes = RawFrame.make(type: FrameType.error.rawValue, requestID: 0, body: body)
        assertDecodeFails(bytes, receiver: .client, .invalidUTF8)
    }

    func testLengthPrefixedFieldsLongerThanTheBodyAreShort() {
        let sends = FrameEncoder.encode(.send(.init(to: 1, clientMessageID: 1, body: [1, 2])), requestID: 1)
        let claimsMore = RawFrame.rebody(sends) { body in
            var body = body
            body[16] = 3  // bodyLength 3, but 2 bytes follow.
            return body
        }
        assertDecodeFails(claimsMore, receiver: .server, .shortBody)
    }

    func testPullOKRecordCountAboveTheBytesPresentIsShortBeforeAllocating() {
        var body: [UInt8] = []
        body.appendLittleEndian(UInt32(1))
        body.appendLittleEndian(UInt32(1))
        body += [0, 0]
        body.appendLittleEndian(UInt16.max)
        let bytes = RawFrame.make(type: FrameType.pullOK.rawValue, requestID: 1, body: body)
        assertDecodeFails(bytes, receiver: .client, .shortBody)
    }

    func testErrorsCarryTheFrameTypeAndRequestID() {
        var bytes = FrameEncoder.encode(.pull(.init(after: 1, epoch: 1, limit: 1)), requestID: 77)
        bytes.append(0)
        bytes[0] += 1
        var decoder = FrameDecoder(receiver: .server)
        decoder.append(bytes)
        XCTAssertThrowsError(try decoder.next()) { error in
            XCTAssertEqual(error as? ProtocolError,
                           ProtocolError(.trailingBytes(count: 1), frameType: .pull, requestID: 77))
        }
    }
}
