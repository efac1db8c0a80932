import CXXHash
import SeqboxFormat
import XCTest

/// The 64-byte segment header (FORMAT.md "Segment files", "Versions").
final class SegmentHeaderTests: XCTestCase {
    let sample = SegmentHeader(basePosition: LogPosition(67_104_064), createdMs: 1_700_000_000_000, capacity: 64 << 20)

    private func decode(_ bytes: [UInt8]) -> Result<SegmentHeader, SegmentHeader.Problem> {
        bytes.withUnsafeBytes { raw in
            do throws(SegmentHeader.Problem) { return .success(try SegmentHeader.decode(raw)) } catch { return .failure(error) }
        }
    }

    private func problem(_ bytes: [UInt8]) -> SegmentHeader.Problem? {
        if case .failure(let problem) = decode(bytes) { return problem }
        return nil
    }

    /// Recomputes the header checksum after an edit (XXH3-64, seed 0, of bytes 0..<56).
    private func refreshChecksum(_ bytes: inout [UInt8]) {
        let checksum = Checksum.xxh3(Array(bytes[0 ..< FormatConstants.segmentHeaderChecksumOffset]))
        bytes.withUnsafeMutableBytes { $0.storeLE(checksum, at: FormatConstants.segmentHeaderChecksumOffset) }
    }

    func testHeadersRoundTrip() {
        for header in [sample, SegmentHeader(basePosition: .zero, createdMs: 0, capacity: 4096),
                       SegmentHeader(basePosition: LogPosition(.max), createdMs: .max, capacity: .max)] {
            let bytes = header.encode()
            XCTAssertEqual(bytes.count, FormatConstants.segmentHeaderSize)
            XCTAssertEqual(try decode(bytes).get(), header)
        }
    }

    func testTheLayoutIsAsDocumented() {
        let bytes = sample.encode()
        XCTAssertEqual(Array(bytes[0 ..< 8]), Array("SQBXLOG1".utf8))
        bytes.withUnsafeBytes { raw in
            XCTAssertEqual(raw.loadLE(at: 8, as: UInt16.self), FormatConstants.formatVersion)
            XCTAssertEqual(raw.loadLE(at: 10, as: UInt16.self), 64)
            XCTAssertEqual(raw.loadLE(at: 12, as: UInt32.self), 0)
            XCTAssertEqual(raw.loadLE(at: 16, as: UInt64.self), sample.basePosition.rawValue)
            XCTAssertEqual(raw.loadLE(at: 24, as: UInt64.self), sample.createdMs)
            XCTAssertEqual(raw.loadLE(at: 32, as: UInt64.self), sample.capacity)
            XCTAssertTrue(raw[40 ..< 56].allSatisfy { $0 == 0 })
            XCTAssertEqual(raw.loadLE(at: 56, as: UInt64.self), XXH3_64bits(raw.baseAddress, 56), "plain XXH3-64 of bytes 0..<56")
        }
    }

    func testAHeaderFollowedByRecordsDecodes() throws {
        let bytes = sample.encode() + [UInt8](repeating: 0xAA, count: 4096)
        XCTAssertEqual(try decode(bytes).get(), sample, "only the first 64 bytes are the header")
    }

    func testFewerThan64BytesIsTooShort() {
        let bytes = sample.encode()
        for count in [0, 8, 56, 63] {
            XCTAssertEqual(problem(Array(bytes.prefix(count))), .tooShort, "\(count) bytes")
        }
    }

    func testAnotherMagicIsRejected() {
        var bytes = sample.encode()
        bytes.replaceSubrange(0 ..< 8, with: Array("SQBXIDX1".utf8))
        refreshChecksum(&bytes)
        XCTAssertEqual(problem(bytes), .badMagic)
        XCTAssertEqual(problem([UInt8](repeating: 0, count: 64)), .badMagic, "a zeroed file is not a segment")
    }

    func testAnUnknownVersionWithAValidChecksumIsUnsupported() {
        for version: UInt16 in [0, 2, 7, .max] {
            var bytes = sample.encode()
            bytes.withUnsafeMutableBytes { $0.storeLE(version, at: 8) }
            refreshChecksum(&bytes)
            XCTAssertEqual(problem(bytes), .unsupportedVersion(version), "version \(version)")
        }
    }

    func testAHigherVersionIsUnsupportedEvenWhenTheChecksumDiffers() {
        var bytes = sample.encode()
        bytes.withUnsafeMutableBytes { $0.storeLE(UInt16(2), at: 8) }
        bytes[20] ^= 1
        XCTAssertEqual(problem(bytes), .unsupportedVersion(2), "a newer version may checksum differently: never guess")
    }

    func testALowerVersionWithABadChecksumIsCorruptionNotAVersion() {
        var bytes = sample.encode()
        bytes.withUnsafeMutableBytes { $0.storeLE(UInt16(0), at: 8) }
        XCTAssertEqual(problem(bytes), .badChecksum)
    }

    func testEverySingleBitFlipIsRejected() {
        let bytes = sample.encode()
        for bit in 0 ..< bytes.count * 8 {
            var damaged = bytes
            damaged[bit / 8] ^= UInt8(1) << (bit % 8)
            let found = problem(damaged)
            switch bit / 8 {
            case 0 ..< 8:
                XCTAssertEqual(found, .badMagic, "bit \(bit)")
            case 8 ..< 10:
                let version = damaged.withUnsafeBytes { $0.loadLE(at: 8, as: UInt16.self) }
                let expected: SegmentHeader.Problem = version > FormatConstants.formatVersion ? .unsupportedVersion(version) : .badChecksum
                XCTAssertEqual(found, expected, "bit \(bit)")
            default:
                XCTAssertEqual(found, .badChecksum, "bit \(bit)")
            }
        }
    }

    func testAnotherHeaderSizeWithAValidChecksumIsRejected() {
        var bytes = sample.encode()
        bytes.withUnsafeMutableBytes { $0.storeLE(UInt16(128), at: 10) }
        refreshChecksum(&bytes)
        XCTAssertEqual(problem(bytes), .badHeaderSize(128))
    }

    func testReservedBytesAreNotChecked() throws {
        var bytes = sample.encode()
        bytes[12] = 1
        bytes[45] = 1
        refreshChecksum(&bytes)
        XCTAssertEqual(try decode(bytes).get(), sample)
    }
}
