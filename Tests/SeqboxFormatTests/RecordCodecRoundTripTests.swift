import SeqboxFormat
import XCTest

/// Records encode and decode back to the same header and payload, for every type and at every
/// boundary size the constants define (FORMAT.md "Records").
final class RecordCodecRoundTripTests: XCTestCase {
    /// A segment base that is neither 0 nor small, so seeding matters.
    let base = LogPosition(67_104_064)
    let offset = FormatConstants.segmentHeaderSize

    func testEveryRecordTypeRoundTrips() throws {
        let samples: [(RecordHeader, [UInt8])] = [
            (RecordHeader(type: .message, flags: FormatConstants.flagOutgoing, user: UserID(42), seq: Seq(7), timestampMs: 1_700_000_000_000,
                          sender: UserID(1001), device: DeviceID(3), clientMessageID: ClientMessageID(99)), Array("hi".utf8)),
            (RecordHeader(type: .ack, user: UserID(42), seq: Seq(7), timestampMs: 1_700_000_000_500, device: DeviceID(3)), []),
            (RecordHeader(type: .block, user: UserID(42), seq: .zero, timestampMs: 1, sender: UserID(666)), []),
            (RecordHeader(type: .unblock, user: UserID(42), seq: .zero, timestampMs: 2, sender: UserID(666)), []),
            (RecordHeader(type: .epochChange, user: UserID(42), seq: Seq(9), timestampMs: 3, sender: UserID(5), device: DeviceID(6),
                          clientMessageID: ClientMessageID(1)), []),
            (RecordHeader(type: .padding, user: .init(0), seq: .zero, timestampMs: 0), [UInt8](repeating: 0, count: 40)),
        ]
        XCTAssertEqual(Set(samples.map(\.0.type)), Set(RecordType.allCases), "every type is sampled")
        for (header, payload) in samples {
            try assertRoundTrip(header, payload: payload, "\(header.type)")
        }
    }

    func testExtremeFieldValuesRoundTrip() throws {
        let header = RecordHeader(type: .message, flags: FormatConstants.flagOutgoing, user: UserID(.max), seq: Seq.max, timestampMs: .max,
                                  sender: UserID(.max), device: DeviceID(.max), clientMessageID: ClientMessageID(.max))
        try assertRoundTrip(header, payload: [0xFF], "all ones")
        let zeros = RecordHeader(type: .message, user: UserID(0), seq: Seq(0), timestampMs: 0)
        try assertRoundTrip(zeros, payload: [], "all zero fields")
    }

    func testBoundaryPayloadSizesRoundTripThroughTheCompressionRule() throws {
        let threshold = FormatConstants.compressionThresholdBytes
        let sizes = [0, 1, threshold - 1, threshold, threshold + 1, FormatConstants.payloadSizeMax]
        var random = SplitMix64(seed: 7)
        for size in sizes {
            for (kind, raw) in [("random", random.bytes(size)), ("compressible", compressiblePayload(size))] {
                let encoded = raw.withUnsafeBytes { Compression.encodePayload($0) }
                if size < threshold { XCTAssertFalse(encoded.compressed, "\(kind) \(size): below the threshold is raw") }
                let header = RecordHeader(type: .message, flags: encoded.compressed ? FormatConstants.flagCompressed : 0,
                                          user: UserID(1), seq: Seq(1), timestampMs: 1, sender: UserID(2), device: DeviceID(3),
                                          clientMessageID: ClientMessageID(4), rawLength: UInt32(size))
                let bytes = FormatTestSupport.encodeRecord(header, payload: encoded.bytes, offset: offset, segmentBase: base)
                let decoded = try XCTUnwrap(FormatTestSupport.decodedHeader(bytes, at: offset, segmentBase: base), "\(kind) \(size)")
                XCTAssertEqual(Int(decoded.rawLength), size)
                XCTAssertEqual(Int(decoded.storedLength), encoded.bytes.count)
                XCTAssertEqual(decoded.isCompressed, encoded.compressed)
                let payload = bytes.withUnsafeBytes { RecordCodec.payload($0, at: offset, header: decoded) }
                XCTAssertEqual(payload, raw, "\(kind) \(size): payload")
            }
        }
    }

    func testRecordSizeRoundsHeaderPlusPayloadUpToTheAlignment() {
        let alignment = FormatConstants.recordAlignment
        XCTAssertEqual(RecordCodec.recordSize(storedLength: 0), FormatConstants.recordHeaderSize)
        XCTAssertEqual(RecordCodec.recordSize(storedLength: alignment), FormatConstants.recordHeaderSize + alignment, "exactly aligned")
        XCTAssertEqual(RecordCodec.recordSize(storedLength: alignment + 1), FormatConstants.recordHeaderSize + 2 * alignment, "one past")
        for storedLength in 0 ..< 64 {
            let size = RecordCodec.recordSize(storedLength: storedLength)
            XCTAssertEqual(size % alignment, 0)
            XCTAssertGreaterThanOrEqual(size, FormatConstants.recordHeaderSize + storedLength)
            XCTAssertLessThan(size, FormatConstants.recordHeaderSize + storedLength + alignment)
        }
    }

    func testExactlyAlignedAndOnePastPayloadsRoundTripWithZeroPadding() throws {
        for storedLength in [0, 8, 9, 15, 16, 17] {
            let payload = [UInt8](repeating: 0xAB, count: storedLength)
            let header = RecordHeader(type: .message, user: UserID(1), seq: Seq(1), timestampMs: 1, rawLength: UInt32(storedLength))
            let bytes = FormatTestSupport.encodeRecord(header, payload: payload, offset: offset, segmentBase: base)
            let size = RecordCodec.recordSize(storedLength: storedLength)
            XCTAssertEqual(bytes.count, offset + size, "the encoder writes exactly recordSize bytes")
            let padding = bytes[(offset + FormatConstants.recordHeaderSize + storedLength)...]
            XCTAssertTrue(padding.allSatisfy { $0 == 0 }, "padding is zero")
            try assertRoundTrip(header, payload: payload, "stored \(storedLength)")
        }
    }

    func testRecordsPackBackToBackAndAScanFindsEachInOrder() throws {
        var random = SplitMix64(seed: 11)
        let payloads = (0 ..< 40).map { random.bytes($0 * 3) }
        let total = FormatConstants.segmentHeaderSize + payloads.reduce(0) { $0 + RecordCodec.recordSize(storedLength: $1.count) }
        var segment = [UInt8](repeating: 0, count: total + FormatConstants.recordHeaderSize)  // zero fill after the last record
        var at = FormatConstants.segmentHeaderSize
        segment.withUnsafeMutableBytes { raw in
            for (number, payload) in payloads.enumerated() {
                let header = RecordHeader(type: .message, user: UserID(9), seq: Seq(UInt32(number + 1)), timestampMs: 5,
                                          rawLength: UInt32(payload.count))
                at += payload.withUnsafeBytes { RecordCodec.encode(header, payload: $0, into: raw, at: at, segmentBase: base) }
            }
        }
        XCTAssertEqual(at, total)
        var cursor = FormatConstants.segmentHeaderSize
        for (number, payload) in payloads.enumerated() {
            let header = try XCTUnwrap(FormatTestSupport.decodedHeader(segment, at: cursor, segmentBase: base))
            XCTAssertEqual(header.seq, Seq(UInt32(number + 1)))
            XCTAssertEqual(segment.withUnsafeBytes { RecordCodec.payload($0, at: cursor, header: header) }, payload)
            cursor += header.recordSize
        }
        XCTAssertTrue(FormatTestSupport.isEndOfData(FormatTestSupport.decode(segment, at: cursor, segmentBase: base)),
                      "the zero fill after the last record is the end of data")
    }

    func testLargestStoredLengthDecodesAndOneMoreIsBadLength() throws {
        let largest = FormatConstants.recordSizeMax - FormatConstants.recordHeaderSize
        var random = SplitMix64(seed: 3)
        let stored = random.bytes(largest)
        let header = RecordHeader(type: .message, flags: FormatConstants.flagCompressed, user: UserID(1), seq: Seq(1), timestampMs: 1,
                                  rawLength: UInt32(FormatConstants.payloadSizeMax))
        var bytes = FormatTestSupport.encodeRecord(header, payload: stored, segmentBase: base)
        XCTAssertEqual(bytes.count, FormatConstants.recordSizeMax)
        let decoded = try XCTUnwrap(FormatTestSupport.decodedHeader(bytes, segmentBase: base))
        XCTAssertEqual(Int(decoded.storedLength), largest)
        XCTAssertNil(bytes.withUnsafeBytes { RecordCodec.payload($0, at: 0, header: decoded) }, "random bytes are no LZ4 block")

        bytes.append(contentsOf: [UInt8](repeating: 0, count: 8))
        bytes.withUnsafeMutableBytes { $0.storeLE(UInt32(largest + 1), at: 8) }
        FormatTestSupport.refreshChecksum(&bytes, segmentBase: base)
        XCTAssertEqual(FormatTestSupport.problem(FormatTestSupport.decode(bytes, segmentBase: base)), .badLength)
    }

    func testLargestRawPayloadRoundTrips() throws {
        var random = SplitMix64(seed: 5)
        let payload = random.bytes(FormatConstants.payloadSizeMax)
        let header = RecordHeader(type: .message, user: UserID(1), seq: Seq(1), timestampMs: 1, rawLength: UInt32(payload.count))
        try assertRoundTrip(header, payload: payload, "1 MiB raw")
    }

    // MARK: Helpers

    private func assertRoundTrip(_ header: RecordHeader, payload: [UInt8], _ label: String,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        var expected = header
        expected.storedLength = UInt32(payload.count)
        if !header.isCompressed { expected.rawLength = UInt32(payload.count) }
        let bytes = FormatTestSupport.encodeRecord(expected, payload: payload, offset: offset, segmentBase: base)
        let decoded = try XCTUnwrap(FormatTestSupport.decodedHeader(bytes, at: offset, segmentBase: base, file: file, line: line),
                                    label, file: file, line: line)
        expected.checksum = bytes.withUnsafeBytes { $0.loadLE(at: offset, as: UInt64.self) }
        XCTAssertEqual(decoded, expected, label, file: file, line: line)
        XCTAssertEqual(decoded.recordSize, bytes.count - offset, label, file: file, line: line)
        let stored = bytes.withUnsafeBytes { Array(RecordCodec.storedPayload($0, at: offset, header: decoded)) }
        XCTAssertEqual(stored, payload, label, file: file, line: line)
    }
}
