import CXXHash
import SeqboxFormat
import XCTest

/// Damaged bytes never decode as a record: truncation, bit flips, unknown types and flags,
/// bad lengths, a wrong segment base (FORMAT.md "Records", decoding rules 1–10).
final class RecordCorruptionTests: XCTestCase {
    let base = LogPosition(134_208_128)

    /// A message record stored raw (13 bytes) and one stored compressed, with their decoded headers.
    private func sampleRecords() -> [(label: String, bytes: [UInt8], header: RecordHeader)] {
        let raw = Array("hello, seqbox".utf8)
        let text = compressiblePayload(300)
        let packed = text.withUnsafeBytes { Compression.encodePayload($0) }
        precondition(packed.compressed)
        let rawHeader = RecordHeader(type: .message, user: UserID(42), seq: Seq(7), timestampMs: 1_700_000_000_000, sender: UserID(1001),
                                     device: DeviceID(3), clientMessageID: ClientMessageID(99), rawLength: UInt32(raw.count))
        var packedHeader = rawHeader
        packedHeader.flags = FormatConstants.flagCompressed
        packedHeader.rawLength = UInt32(text.count)
        return [("raw", rawHeader, raw), ("compressed", packedHeader, packed.bytes)].map { label, header, stored in
            let bytes = FormatTestSupport.encodeRecord(header, payload: stored, segmentBase: base)
            guard case .record(let decoded) = FormatTestSupport.decode(bytes, segmentBase: base) else { preconditionFailure("sample \(label)") }
            return (label, bytes, decoded)
        }
    }

    /// Decodes `count` bytes of `backing` as a view of exactly that size. The rest of `backing`
    /// stays valid record bytes, so a decoder reading past the view would find a valid record
    /// there and answer `.record`: a truncation answer proves it stayed inside.
    private func decodeView(_ backing: [UInt8], count: Int) -> RecordDecodeResult {
        backing.withUnsafeBytes { raw in
            RecordCodec.decode(UnsafeRawBufferPointer(rebasing: raw[0 ..< count]), at: 0, segmentBase: base)
        }
    }

    func testABufferCutAtEveryLengthIsTruncatedUntilHeaderAndPayloadArePresent() {
        for (label, bytes, header) in sampleRecords() {
            let needed = FormatConstants.recordHeaderSize + Int(header.storedLength)
            XCTAssertTrue(FormatTestSupport.isEndOfData(decodeView(bytes, count: 0)), "\(label): nothing left is the end of data")
            for count in 1 ..< needed {
                XCTAssertEqual(FormatTestSupport.problem(decodeView(bytes, count: count)), .truncated, "\(label) cut at \(count)")
            }
            for count in needed ... bytes.count {
                guard case .record = decodeView(bytes, count: count) else {
                    XCTFail("\(label) cut at \(count): the padding is not needed to decode")
                    continue
                }
            }
        }
    }

    func testAnOffsetPastTheBufferIsTruncatedAndNegativeOffsetsAreRejected() {
        let bytes = sampleRecords()[0].bytes
        XCTAssertEqual(FormatTestSupport.problem(FormatTestSupport.decode(bytes, at: bytes.count + 8, segmentBase: base)), .truncated)
        XCTAssertEqual(FormatTestSupport.problem(FormatTestSupport.decode(bytes, at: -8, segmentBase: base)), .truncated)
        XCTAssertTrue(FormatTestSupport.isEndOfData(FormatTestSupport.decode(bytes, at: bytes.count, segmentBase: base)))
    }

    func testAnAllZeroHeaderIsTheEndOfData() {
        XCTAssertTrue(FormatTestSupport.isEndOfData(FormatTestSupport.decode([UInt8](repeating: 0, count: 64), segmentBase: base)))
        XCTAssertTrue(FormatTestSupport.isEndOfData(FormatTestSupport.decode([UInt8](repeating: 0, count: 4096), at: 512, segmentBase: base)))
        XCTAssertTrue(FormatTestSupport.isEndOfData(FormatTestSupport.decode([UInt8](repeating: 0, count: 63), segmentBase: base)),
                      "fewer than 64 zero bytes at the end of a segment are the end of data too")
        var zeroHeaderThenData = [UInt8](repeating: 0, count: 128)
        for index in 64 ..< 128 { zeroHeaderThenData[index] = 0xEE }
        XCTAssertTrue(FormatTestSupport.isEndOfData(FormatTestSupport.decode(zeroHeaderThenData, segmentBase: base)),
                      "only the 64 header bytes decide")
    }

    func testAZeroTypeWithAnyOtherNonzeroHeaderByteIsNotTheEndOfData() {
        for index in 0 ..< FormatConstants.recordHeaderSize where index != 12 {
            var bytes = [UInt8](repeating: 0, count: 64)
            bytes[index] = 1
            let result = FormatTestSupport.decode(bytes, segmentBase: base)
            XCTAssertFalse(FormatTestSupport.isEndOfData(result), "nonzero byte \(index)")
            XCTAssertNotNil(FormatTestSupport.problem(result), "nonzero byte \(index)")
        }
        var shortTail = [UInt8](repeating: 0, count: 40)
        shortTail[39] = 1
        XCTAssertEqual(FormatTestSupport.problem(FormatTestSupport.decode(shortTail, segmentBase: base)), .truncated)
    }

    func testEverySingleBitFlipInHeaderOrPayloadIsDetected() {
        for (label, bytes, header) in sampleRecords() {
            let covered = FormatConstants.recordHeaderSize + Int(header.storedLength)
            for bit in 0 ..< covered * 8 {
                var damaged = bytes
                damaged[bit / 8] ^= UInt8(1) << (bit % 8)
                let result = FormatTestSupport.decode(damaged, segmentBase: base)
                XCTAssertNotNil(FormatTestSupport.problem(result), "\(label): flip of bit \(bit % 8) of byte \(bit / 8) went unnoticed")
            }
        }
    }

    func testPaddingBytesAreOutsideTheChecksum() throws {
        let (_, bytes, header) = sampleRecords()[0]
        let paddingStart = FormatConstants.recordHeaderSize + Int(header.storedLength)
        XCTAssertLessThan(paddingStart, bytes.count, "the sample has padding")
        for index in paddingStart ..< bytes.count {
            var damaged = bytes
            damaged[index] = 0xFF
            let decoded = try XCTUnwrap(FormatTestSupport.decodedHeader(damaged, segmentBase: base))
            XCTAssertEqual(decoded, FormatTestSupport.decodedHeader(bytes, segmentBase: base))
        }
    }

    func testTheChecksumIsXXH3OfBytes8ThroughThePayloadSeededWithTheSegmentBase() {
        for (label, bytes, header) in sampleRecords() {
            let end = FormatConstants.recordHeaderSize + Int(header.storedLength)
            let independent = bytes.withUnsafeBytes { raw in
                XXH3_64bits_withSeed(raw.baseAddress! + 8, end - 8, base.rawValue)
            }
            XCTAssertEqual(bytes.withUnsafeBytes { $0.loadLE(at: 0, as: UInt64.self) }, independent, label)
        }
    }

    func testARecordDecodedWithAnotherSegmentBaseFailsItsChecksum() {
        for (label, bytes, _) in sampleRecords() {
            for other in [LogPosition(0), LogPosition(base.rawValue + 8), LogPosition(base.rawValue - 64), LogPosition(.max)] {
                XCTAssertEqual(FormatTestSupport.problem(FormatTestSupport.decode(bytes, segmentBase: other)), .badChecksum, "\(label) at \(other)")
            }
        }
    }

    func testAnUnknownTypeIsRejectedEvenWithAValidChecksum() {
        var bytes = sampleRecords()[0].bytes
        for type in [UInt8(0), 7, 8, 0x80, 0xFF] {
            bytes[12] = type
            FormatTestSupport.refreshChecksum(&bytes, segmentBase: base)
            XCTAssertEqual(FormatTestSupport.problem(FormatTestSupport.decode(bytes, segmentBase: base)), .unknownType, "type \(type)")
        }
    }

    func testUnknownFlagBitsAreRejectedEvenWithAValidChecksum() {
        let original = sampleRecords()[0].bytes
        for bit in 0 ..< 8 {
            let flag = UInt8(1) << bit
            guard flag & FormatConstants.flagsKnown == 0 else { continue }
            var bytes = original
            bytes[13] |= flag
            FormatTestSupport.refreshChecksum(&bytes, segmentBase: base)
            XCTAssertEqual(FormatTestSupport.problem(FormatTestSupport.decode(bytes, segmentBase: base)), .badFlags, "flag bit \(bit)")
        }
    }

    func testTheKnownFlagsDecode() throws {
        var bytes = sampleRecords()[0].bytes
        bytes[13] = FormatConstants.flagOutgoing
        FormatTestSupport.refreshChecksum(&bytes, segmentBase: base)
        let header = try XCTUnwrap(FormatTestSupport.decodedHeader(bytes, segmentBase: base))
        XCTAssertTrue(header.isOutgoing)
        XCTAssertFalse(header.isCompressed)
    }

    func testNonzeroReservedBytesAreRejectedEvenWithAValidChecksum() {
        for index in [14, 15] {
            var bytes = sampleRecords()[0].bytes
            bytes[index] = 1
            FormatTestSupport.refreshChecksum(&bytes, segmentBase: base)
            XCTAssertEqual(FormatTestSupport.problem(FormatTestSupport.decode(bytes, segmentBase: base)), .badFlags, "reserved byte \(index)")
        }
    }

    func testAStoredLengthBeyondTheLargestRecordIsBadLength() {
        for storedLength in [UInt32(FormatConstants.recordSizeMax - FormatConstants.recordHeaderSize + 1), UInt32(FormatConstants.recordSizeMax),
                             UInt32.max] {
            var bytes = sampleRecords()[0].bytes
            bytes.withUnsafeMutableBytes { $0.storeLE(storedLength, at: 8) }
            XCTAssertEqual(FormatTestSupport.problem(FormatTestSupport.decode(bytes, segmentBase: base)), .badLength, "stored \(storedLength)")
        }
    }

    func testAnUncompressedRecordWhoseRawLengthDiffersIsBadPayload() {
        var bytes = sampleRecords()[0].bytes
        bytes.withUnsafeMutableBytes { $0.storeLE(UInt32(14), at: 28) }
        FormatTestSupport.refreshChecksum(&bytes, segmentBase: base)
        XCTAssertEqual(FormatTestSupport.problem(FormatTestSupport.decode(bytes, segmentBase: base)), .badPayload)
    }

    func testACompressedRecordClaimingMoreThanTheLargestPayloadIsBadLength() {
        var bytes = sampleRecords()[1].bytes
        bytes.withUnsafeMutableBytes { $0.storeLE(UInt32(FormatConstants.payloadSizeMax + 1), at: 28) }
        FormatTestSupport.refreshChecksum(&bytes, segmentBase: base)
        XCTAssertEqual(FormatTestSupport.problem(FormatTestSupport.decode(bytes, segmentBase: base)), .badLength)
    }

    func testACompressedRecordWithAValidChecksumButAMalformedBlockDecodesWithoutAPayload() throws {
        var bytes = sampleRecords()[1].bytes
        let header = sampleRecords()[1].header
        let payloadStart = FormatConstants.recordHeaderSize
        let payloadEnd = payloadStart + Int((try XCTUnwrap(FormatTestSupport.decodedHeader(bytes, segmentBase: base))).storedLength)
        for index in payloadStart ..< payloadEnd { bytes[index] = 0xFF }
        FormatTestSupport.refreshChecksum(&bytes, segmentBase: base)
        let decoded = try XCTUnwrap(FormatTestSupport.decodedHeader(bytes, segmentBase: base), "decoding does not decompress")
        XCTAssertEqual(decoded.rawLength, header.rawLength)
        XCTAssertNil(bytes.withUnsafeBytes { RecordCodec.payload($0, at: 0, header: decoded) }, "reading the payload reports it")
    }

    /// Random bytes and random damage never crash the decoder, never read outside the view,
    /// and never verify as a record.
    func testRandomDamageNeverDecodesAsARecord() {
        let seed = SplitMix64.freshSeed()
        var random = SplitMix64(seed: seed)
        let samples = sampleRecords()
        for iteration in 0 ..< 5000 {
            var bytes: [UInt8]
            if iteration % 2 == 0 {
                bytes = random.bytes(Int(random.next() % 200))
                if bytes.count > 12 { bytes[12] = UInt8(1 + random.next() % 6) }  // a known type reaches the checksum
                if bytes.count > 15 { bytes[13] = 0; bytes[14] = 0; bytes[15] = 0 }
            } else {
                let original = samples[iteration / 2 % samples.count].bytes
                bytes = original
                let covered = FormatConstants.recordHeaderSize + Int(bytes.withUnsafeBytes { $0.loadLE(at: 8, as: UInt32.self) })
                for _ in 0 ..< 1 + random.next() % 4 {
                    bytes[Int(random.next() % UInt64(covered))] ^= UInt8(1 + random.next() % 255)
                }
                if bytes[0 ..< covered] == original[0 ..< covered] { continue }  // two edits cancelled out
            }
            let viewCount = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count + 1))
            let result = decodeView(bytes, count: viewCount)
            if case .record = result {
                XCTFail("seed \(seed) iteration \(iteration): damaged bytes decoded as a record")
                return
            }
        }
    }
}
