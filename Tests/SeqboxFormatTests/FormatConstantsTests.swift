import SeqboxFormat
import XCTest

/// The relationships between the format's constants (FORMAT.md "Limits").
final class FormatConstantsTests: XCTestCase {
    typealias C = FormatConstants

    func testTheRecordAlignmentIsAPowerOfTwo() {
        XCTAssertGreaterThan(C.recordAlignment, 0)
        XCTAssertEqual(C.recordAlignment & (C.recordAlignment - 1), 0)
    }

    func testEveryHeaderAndEntrySizeIsAMultipleOfTheAlignment() {
        for (name, size) in [("recordHeaderSize", C.recordHeaderSize), ("segmentHeaderSize", C.segmentHeaderSize),
                             ("indexHeaderSize", C.indexHeaderSize), ("indexEntrySize", C.indexEntrySize),
                             ("indexTrailerSize", C.indexTrailerSize), ("minimumSegmentBytes", C.minimumSegmentBytes),
                             ("defaultSegmentBytes", C.defaultSegmentBytes), ("recordSizeMax", C.recordSizeMax)] {
            XCTAssertEqual(size % C.recordAlignment, 0, name)
        }
    }

    func testTheLargestRecordHoldsTheLargestPayloadCompressedInTheWorstCase() {
        XCTAssertGreaterThanOrEqual(C.recordSizeMax, C.recordHeaderSize + Compression.maxCompressedSize(C.payloadSizeMax))
        XCTAssertLessThan(C.recordSizeMax, C.recordHeaderSize + Compression.maxCompressedSize(C.payloadSizeMax) + C.recordAlignment,
                          "and is no larger than it needs to be")
        XCTAssertLessThanOrEqual(C.recordSizeMax, Int(UInt32.max), "storedLength is a u32")
        XCTAssertLessThanOrEqual(C.payloadSizeMax, Int(UInt32.max), "rawLength is a u32")
    }

    func testSegmentsHoldAHeaderAndRecords() {
        XCTAssertGreaterThan(C.minimumSegmentBytes, C.segmentHeaderSize + C.recordHeaderSize)
        XCTAssertGreaterThanOrEqual(C.defaultSegmentBytes, C.segmentHeaderSize + C.recordSizeMax,
                                    "a default segment holds a maximal record")
        XCTAssertGreaterThanOrEqual(C.defaultSegmentBytes, C.minimumSegmentBytes)
        XCTAssertLessThanOrEqual(C.defaultSegmentBytes, Int(UInt32.max), "index entries store offsets as u32")
    }

    func testChecksumFieldsSitWhereTheCoverageSaysTheyDo() {
        XCTAssertEqual(C.recordChecksumCoveredFrom, MemoryLayout<UInt64>.size, "the record checksum covers everything after itself")
        XCTAssertEqual(C.segmentHeaderChecksumOffset, C.segmentHeaderSize - MemoryLayout<UInt64>.size, "the header checksum is its last field")
        XCTAssertEqual(C.indexTrailerSize, MemoryLayout<UInt64>.size)
    }

    func testTheCompressionThresholdIsAPayloadSize() {
        XCTAssertGreaterThan(C.compressionThresholdBytes, 0)
        XCTAssertLessThan(C.compressionThresholdBytes, C.payloadSizeMax)
    }

    func testFlagsAreDistinctBitsAndTheKnownSetIsTheirUnion() {
        XCTAssertEqual(C.flagCompressed.nonzeroBitCount, 1)
        XCTAssertEqual(C.flagOutgoing.nonzeroBitCount, 1)
        XCTAssertEqual(C.flagBatchStart.nonzeroBitCount, 1)
        XCTAssertEqual(C.flagCompressed & C.flagOutgoing, 0)
        XCTAssertEqual((C.flagCompressed | C.flagOutgoing) & C.flagBatchStart, 0)
        XCTAssertEqual(C.flagsKnown, C.flagCompressed | C.flagOutgoing | C.flagBatchStart)
    }

    func testMagicsSpellTheirNames() {
        func ascii(_ value: UInt64) -> String { String(decoding: withUnsafeBytes(of: value.littleEndian) { Array($0) }, as: UTF8.self) }
        XCTAssertEqual(ascii(C.segmentMagic), "SQBXLOG1")
        XCTAssertEqual(ascii(C.indexMagic), "SQBXIDX1")
        XCTAssertEqual(ascii(C.checkpointMagic), "SQBXCKP1")
    }

    func testVersionsNamesAndCounts() {
        XCTAssertEqual(C.formatVersion, 1)
        XCTAssertEqual(String(UInt64.max).count, C.fileNameDigits, "20 digits hold every u64")
        XCTAssertGreaterThanOrEqual(C.checkpointsKept, 2, "a fallback survives a damaged newest checkpoint")
        XCTAssertEqual(RecordType.allCases.map(\.rawValue), Array(1 ... 6), "type 0 is never a record: zeros mean end of data")
    }

    func testAlignUpRoundsToTheNextMultiple() {
        for value in 0 ..< 100 {
            let aligned = C.alignUp(value, to: C.recordAlignment)
            XCTAssertEqual(aligned % C.recordAlignment, 0)
            XCTAssertTrue(aligned >= value && aligned < value + C.recordAlignment, "\(value) → \(aligned)")
        }
    }
}
