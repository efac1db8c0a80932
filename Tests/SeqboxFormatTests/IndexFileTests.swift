import CXXHash
import SeqboxFormat
import XCTest

/// Index files of sealed segments (FORMAT.md "Index files").
final class IndexFileTests: XCTestCase {
    let sample = IndexFile(basePosition: LogPosition(67_104_064), segmentLength: 336, entries: [
        IndexEntry(offset: 64, seq: Seq(1), user: UserID(42), type: .message, flags: FormatConstants.flagCompressed, storedLength: 26,
                   keyHash: 0x1234_5678_9ABC_DEF0),
        IndexEntry(offset: 160, seq: Seq(2), user: UserID(42), type: .message, flags: FormatConstants.flagOutgoing, storedLength: 9, keyHash: 7),
        IndexEntry(offset: 240, seq: Seq(2), user: UserID(42), type: .ack, flags: 0, storedLength: 0),
        IndexEntry(offset: 304, seq: .zero, user: UserID(.max), type: .block, flags: 0, storedLength: 0),
    ])

    private func decode(_ bytes: [UInt8]) -> Result<IndexFile, IndexFile.Problem> {
        bytes.withUnsafeBytes { raw in
            do throws(IndexFile.Problem) { return .success(try IndexFile.decode(raw)) } catch { return .failure(error) }
        }
    }

    private func problem(_ bytes: [UInt8]) -> IndexFile.Problem? {
        if case .failure(let problem) = decode(bytes) { return problem }
        return nil
    }

    private func refreshTrailer(_ bytes: inout [UInt8]) {
        let end = bytes.count - FormatConstants.indexTrailerSize
        let checksum = Checksum.xxh3(Array(bytes[0 ..< end]))
        bytes.withUnsafeMutableBytes { $0.storeLE(checksum, at: end) }
    }

    func testIndexFilesRoundTrip() {
        let empty = IndexFile(basePosition: .zero, segmentLength: 64, entries: [])
        let everyType = IndexFile(basePosition: LogPosition(.max), segmentLength: .max, entries: RecordType.allCases.enumerated().map {
            IndexEntry(offset: UInt32.max - UInt32($0.offset), seq: Seq.max, user: UserID(.max), type: $0.element,
                       flags: FormatConstants.flagsKnown, storedLength: .max, keyHash: .max)
        })
        for index in [sample, empty, everyType] {
            let bytes = index.encode()
            XCTAssertEqual(bytes.count, FormatConstants.indexHeaderSize + index.entries.count * FormatConstants.indexEntrySize
                + FormatConstants.indexTrailerSize)
            XCTAssertEqual(try decode(bytes).get(), index)
        }
    }

    func testTheTrailerIsXXH3OfEveryPrecedingByte() {
        let bytes = sample.encode()
        let end = bytes.count - 8
        let expected = bytes.withUnsafeBytes { XXH3_64bits($0.baseAddress, end) }
        XCTAssertEqual(bytes.withUnsafeBytes { $0.loadLE(at: end, as: UInt64.self) }, expected)
    }

    func testEveryByteChangeIsDetected() {
        let bytes = sample.encode()
        for index in 0 ..< bytes.count {
            var damaged = bytes
            damaged[index] ^= 0x10
            let found = problem(damaged)
            switch index {
            case 0 ..< 8: XCTAssertEqual(found, .badMagic, "byte \(index)")
            case 8 ..< 10:
                let version = damaged.withUnsafeBytes { $0.loadLE(at: 8, as: UInt16.self) }
                XCTAssertEqual(found, .unsupportedVersion(version), "byte \(index)")
            default: XCTAssertEqual(found, .badChecksum, "byte \(index)")
            }
        }
    }

    func testEveryShorterFileIsRejected() {
        let bytes = sample.encode()
        for count in 0 ..< bytes.count {
            let found = problem(Array(bytes.prefix(count)))
            XCTAssertNotNil(found, "\(count) bytes")
            if count < FormatConstants.indexHeaderSize + FormatConstants.indexTrailerSize {
                XCTAssertEqual(found, .truncated, "\(count) bytes")
            }
        }
    }

    func testAnEntryCountThatDisagreesWithTheSizeIsTruncated() {
        for count: UInt32 in [0, 3, 5, .max] {
            var bytes = sample.encode()
            bytes.withUnsafeMutableBytes { $0.storeLE(count, at: 12) }
            refreshTrailer(&bytes)
            XCTAssertEqual(problem(bytes), .truncated, "entryCount \(count)")
        }
    }

    func testAnEntryWithAnUnknownTypeIsBadEntry() {
        var bytes = sample.encode()
        bytes[FormatConstants.indexHeaderSize + 2 * FormatConstants.indexEntrySize + 16] = 0
        refreshTrailer(&bytes)
        XCTAssertEqual(problem(bytes), .badEntry(2))
    }

    func testAnUnknownVersionIsUnsupported() {
        var bytes = sample.encode()
        bytes.withUnsafeMutableBytes { $0.storeLE(UInt16(2), at: 8) }
        refreshTrailer(&bytes)
        XCTAssertEqual(problem(bytes), .unsupportedVersion(2))
    }
}
