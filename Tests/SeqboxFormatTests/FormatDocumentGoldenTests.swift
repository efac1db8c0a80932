import Foundation
import SeqboxFormat
import XCTest

/// Decodes the worked examples of FORMAT.md exactly as written and checks every value the
/// document states, so the document and the code cannot drift apart.
final class FormatDocumentGoldenTests: XCTestCase {
    typealias FieldValue = FormatDocument.FieldValue

    /// Every hex block the document marks; a new example must be added here (and checked).
    static let checkedBlocks = ["segment-header", "message-record", "ack-record", "epoch-record", "index-file"]

    var document: FormatDocument!

    override func setUpWithError() throws {
        document = try FormatDocument.load()
    }

    func testEveryMarkedHexBlockIsChecked() {
        XCTAssertEqual(document.hexBlockNames, Self.checkedBlocks)
    }

    func testSegmentHeaderExampleDecodesAsDocumented() throws {
        let block = try document.hexBlock("segment-header")
        XCTAssertEqual(block.startOffset, 0, "a segment header starts the file")
        let header = try block.bytes.withUnsafeBytes { raw throws(SegmentHeader.Problem) in try SegmentHeader.decode(raw) }
        let reencoded = header.encode()
        XCTAssertEqual(reencoded, block.bytes, "re-encoding the decoded header gives the documented bytes")
        let decoded: [String: FieldValue] = [
            "magic": .bytes(littleEndianBytes(FormatConstants.segmentMagic)),
            "version": .integer(UInt64(header.version)),
            "headerSize": .integer(UInt64(FormatConstants.segmentHeaderSize)),
            "reserved": .integer(0),
            "basePosition": .integer(header.basePosition.rawValue),
            "createdMs": .integer(header.createdMs),
            "capacity": .integer(header.capacity),
            "checksum": .integer(loadLE(reencoded, at: FormatConstants.segmentHeaderChecksumOffset)),
        ]
        try checkFields("segment-header", block: block, decoded: decoded)
    }

    func testMessageRecordExampleDecodesAsDocumented() throws {
        let (block, header, payload) = try decodeRecordBlock("message-record")
        XCTAssertEqual(header.type, .message)
        XCTAssertFalse(header.isCompressed)
        XCTAssertEqual(block.startOffset, FormatConstants.segmentHeaderSize, "the example is the segment's first record")
        try checkFields("message-record", block: block, decoded: recordFields(header, payload: payload))
    }

    func testMessageRecordExamplePayloadIsStoredRawAsTheCompressionRuleSays() throws {
        let (_, _, payload) = try decodeRecordBlock("message-record")
        let encoded = payload.withUnsafeBytes { Compression.encodePayload($0) }
        XCTAssertFalse(encoded.compressed)
        XCTAssertEqual(encoded.bytes, payload)
    }

    func testAckRecordExampleDecodesAsDocumented() throws {
        let (block, header, payload) = try decodeRecordBlock("ack-record")
        XCTAssertEqual(header.type, .ack)
        try checkFields("ack-record", block: block, decoded: recordFields(header, payload: payload))
    }

    func testEpochChangeRecordExampleDecodesAsDocumented() throws {
        let (block, header, payload) = try decodeRecordBlock("epoch-record")
        XCTAssertEqual(header.type, .epochChange)
        try checkFields("epoch-record", block: block, decoded: recordFields(header, payload: payload))
    }

    func testRecordExamplesDoNotVerifyInASegmentWithAnotherBase() throws {
        for name in ["message-record", "ack-record", "epoch-record"] {
            let block = try document.hexBlock(name)
            let base = try XCTUnwrap(block.parameters["base"].flatMap { UInt64($0) }, "\(name) names its segment base")
            let segment = [UInt8](repeating: 0, count: block.startOffset) + block.bytes
            let otherBases: [UInt64] = [base &+ 1, base &- 1, base ^ (1 << 32), 134_208_128]
            for otherBase in otherBases where otherBase != base {
                let result = FormatTestSupport.decode(segment, at: block.startOffset, segmentBase: LogPosition(otherBase))
                XCTAssertEqual(FormatTestSupport.problem(result), .badChecksum, "\(name) at base \(otherBase)")
            }
        }
    }

    func testIndexFileExampleDecodesAsDocumented() throws {
        let block = try document.hexBlock("index-file")
        XCTAssertEqual(block.startOffset, 0)
        let index = try block.bytes.withUnsafeBytes { raw throws(IndexFile.Problem) in try IndexFile.decode(raw) }
        let reencoded = index.encode()
        XCTAssertEqual(reencoded, block.bytes, "re-encoding the decoded index gives the documented bytes")
        var decoded: [String: FieldValue] = [
            "magic": .bytes(littleEndianBytes(FormatConstants.indexMagic)),
            "version": .integer(UInt64(FormatConstants.formatVersion)),
            "reserved": .integer(0),
            "entryCount": .integer(UInt64(index.entries.count)),
            "basePosition": .integer(index.basePosition.rawValue),
            "segmentLength": .integer(index.segmentLength),
            "trailer": .integer(loadLE(reencoded, at: reencoded.count - FormatConstants.indexTrailerSize)),
        ]
        for (number, entry) in index.entries.enumerated() {
            let prefix = "entry[\(number)]."
            decoded[prefix + "offset"] = .integer(UInt64(entry.offset))
            decoded[prefix + "seq"] = .integer(UInt64(entry.seq.rawValue))
            decoded[prefix + "user"] = .integer(entry.user.rawValue)
            decoded[prefix + "type"] = .integer(UInt64(entry.type.rawValue))
            decoded[prefix + "flags"] = .integer(UInt64(entry.flags))
            decoded[prefix + "reserved"] = .integer(0)
            decoded[prefix + "storedLength"] = .integer(UInt64(entry.storedLength))
            decoded[prefix + "keyHash"] = .integer(entry.keyHash)
        }
        try checkFields("index-file", block: block, decoded: decoded)
    }

    func testIndexExampleDescribesTheMessageExample() throws {
        let index = try document.hexBlock("index-file").bytes.withUnsafeBytes { raw throws(IndexFile.Problem) in try IndexFile.decode(raw) }
        let (block, header, _) = try decodeRecordBlock("message-record")
        let entry = try XCTUnwrap(index.entries.first)
        XCTAssertEqual(Int(entry.offset), block.startOffset)
        XCTAssertEqual(entry.user, header.user)
        XCTAssertEqual(entry.seq, header.seq)
        XCTAssertEqual(entry.type, header.type)
        XCTAssertEqual(entry.storedLength, header.storedLength)
        XCTAssertEqual(entry.keyHash, IdempotencyKey.hash(header), "an index entry holds the message's idempotency key")
        XCTAssertEqual(Int(index.entries[1].offset), block.startOffset + header.recordSize, "the ack follows the message")
        XCTAssertEqual(Int(index.segmentLength), Int(index.entries[1].offset) + FormatConstants.recordHeaderSize)
    }

    func testConstantsTableMatchesFormatConstants() throws {
        let known: [String: Int] = [
            "formatVersion": Int(FormatConstants.formatVersion),
            "recordAlignment": FormatConstants.recordAlignment,
            "recordHeaderSize": FormatConstants.recordHeaderSize,
            "recordChecksumCoveredFrom": FormatConstants.recordChecksumCoveredFrom,
            "segmentHeaderSize": FormatConstants.segmentHeaderSize,
            "segmentHeaderChecksumOffset": FormatConstants.segmentHeaderChecksumOffset,
            "payloadSizeMax": FormatConstants.payloadSizeMax,
            "recordSizeMax": FormatConstants.recordSizeMax,
            "compressionThresholdBytes": FormatConstants.compressionThresholdBytes,
            "flagCompressed": Int(FormatConstants.flagCompressed),
            "flagOutgoing": Int(FormatConstants.flagOutgoing),
            "flagBatchStart": Int(FormatConstants.flagBatchStart),
            "flagsKnown": Int(FormatConstants.flagsKnown),
            "defaultSegmentBytes": FormatConstants.defaultSegmentBytes,
            "minimumSegmentBytes": FormatConstants.minimumSegmentBytes,
            "fileNameDigits": FormatConstants.fileNameDigits,
            "indexHeaderSize": FormatConstants.indexHeaderSize,
            "indexEntrySize": FormatConstants.indexEntrySize,
            "indexTrailerSize": FormatConstants.indexTrailerSize,
            "checkpointsKept": FormatConstants.checkpointsKept,
        ]
        var documented: Set<String> = []
        for (cells, line) in try document.tableRows(marker: "<!-- golden-constants -->") {
            let name = cells[0]
            documented.insert(name)
            guard let expected = known[name] else {
                XCTFail("FORMAT.md line \(line): constant \(name) is not checked by this test")
                continue
            }
            XCTAssertEqual(try FormatDocument.parseValue(cells[1], lineNumber: line), .integer(UInt64(expected)),
                           "FORMAT.md line \(line): \(name)")
        }
        XCTAssertEqual(documented, Set(known.keys), "every checked constant is in the table")
    }

    func testRecordTypeTableMatchesRecordType() throws {
        let cases: [String: RecordType] = [
            "message": .message, "ack": .ack, "block": .block, "unblock": .unblock, "epochChange": .epochChange, "padding": .padding,
        ]
        var documented: Set<UInt8> = []
        for (cells, line) in try document.tableRows(marker: "<!-- golden-record-types -->") {
            let code = try XCTUnwrap(UInt8(cells[0]), "FORMAT.md line \(line)")
            documented.insert(code)
            let type = try XCTUnwrap(RecordType(rawValue: code), "FORMAT.md line \(line): code \(code) is no record type")
            XCTAssertEqual(cases[cells[1]], type, "FORMAT.md line \(line): case name")
            XCTAssertEqual(type.description, cells[2], "FORMAT.md line \(line): tool name")
            XCTAssertEqual(RecordType(name: cells[2]), type)
        }
        XCTAssertEqual(documented, Set(RecordType.allCases.map(\.rawValue)), "the table lists every record type")
    }

    /// Every `FORMAT.md "Section"` cited in the sources names a heading of the document.
    func testEverySectionCitedByTheSourcesExists() throws {
        let sources = FormatDocument.repositoryRoot().appendingPathComponent("Sources")
        let enumerator = try XCTUnwrap(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        let headings = document.headings
        var citations = 0
        for case let url as URL in enumerator where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            var rest = text[...]
            while let range = rest.range(of: "FORMAT.md \"") {
                let after = rest[range.upperBound...]
                guard let close = after.firstIndex(of: "\"") else { break }
                let section = String(after[..<close])
                citations += 1
                XCTAssertTrue(headings.contains(section), "\(url.lastPathComponent) cites FORMAT.md \"\(section)\", which has no heading")
                rest = after[close...].dropFirst()
            }
        }
        XCTAssertGreaterThan(citations, 10, "the sources cite FORMAT.md sections")
    }

    /// FORMAT.md "Compression": the 150-byte example compresses to 26 bytes, the record to 96.
    func testCompressionSectionExample() {
        let payload = Array(String(repeating: "hello, seqbox! ", count: 10).utf8)
        XCTAssertEqual(payload.count, 150)
        let encoded = payload.withUnsafeBytes { Compression.encodePayload($0) }
        XCTAssertTrue(encoded.compressed)
        XCTAssertEqual(encoded.bytes.count, 26)
        XCTAssertEqual(RecordCodec.recordSize(storedLength: encoded.bytes.count), 96)
        XCTAssertEqual(RecordCodec.recordSize(storedLength: payload.count), 216)
    }

    // MARK: Helpers

    private func decodeRecordBlock(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws
        -> (FormatDocument.HexBlock, RecordHeader, [UInt8]) {
        let block = try document.hexBlock(name)
        let base = try XCTUnwrap(block.parameters["base"].flatMap { UInt64($0) }, "\(name) names its segment base", file: file, line: line)
        XCTAssertEqual(block.startOffset % FormatConstants.recordAlignment, 0, "records are aligned", file: file, line: line)
        let segment = [UInt8](repeating: 0, count: block.startOffset) + block.bytes
        let header = try XCTUnwrap(FormatTestSupport.decodedHeader(segment, at: block.startOffset, segmentBase: LogPosition(base),
                                                                   file: file, line: line))
        XCTAssertEqual(header.recordSize, block.bytes.count, "the block is exactly one record", file: file, line: line)
        let payload = try XCTUnwrap(segment.withUnsafeBytes { RecordCodec.payload($0, at: block.startOffset, header: header) })
        let stored = segment.withUnsafeBytes { Array(RecordCodec.storedPayload($0, at: block.startOffset, header: header)) }
        let reencoded = FormatTestSupport.encodeRecord(header, payload: stored, offset: block.startOffset, segmentBase: LogPosition(base))
        XCTAssertEqual(Array(reencoded[block.startOffset...]), block.bytes, "re-encoding \(name) gives the documented bytes",
                       file: file, line: line)
        return (block, header, payload)
    }

    private func recordFields(_ header: RecordHeader, payload: [UInt8]) -> [String: FieldValue] {
        [
            "checksum": .integer(header.checksum),
            "storedLength": .integer(UInt64(header.storedLength)),
            "type": .integer(UInt64(header.type.rawValue)),
            "flags": .integer(UInt64(header.flags)),
            "reserved": .integer(0),  // the decoder rejects anything else (badFlags)
            "user": .integer(header.user.rawValue),
            "seq": .integer(UInt64(header.seq.rawValue)),
            "rawLength": .integer(UInt64(header.rawLength)),
            "timestampMs": .integer(header.timestampMs),
            "sender": .integer(header.sender.rawValue),
            "device": .integer(header.device.rawValue),
            "clientMessageId": .integer(header.clientMessageID.rawValue),
            "payload": .bytes(payload),
            "padding": .integer(0),  // the encoder writes zeros; the re-encode comparison checks them
        ]
    }

    /// Checks that the rows tile the block, and that each value matches both the bytes at its
    /// offset and the decoded value of its field.
    private func checkFields(_ name: String, block: FormatDocument.HexBlock, decoded: [String: FieldValue]) throws {
        let rows = try document.fieldRows(name)
        var covered = 0
        for row in rows {
            let place = "FORMAT.md line \(row.line) (\(name).\(row.field))"
            XCTAssertEqual(row.offset, covered, "\(place): the rows must cover the block in order, without gaps")
            covered = row.offset + row.size
            guard row.offset >= 0, row.size > 0, covered <= block.bytes.count else {
                XCTFail("\(place): offset \(row.offset) size \(row.size) lies outside the \(block.bytes.count)-byte block")
                return
            }
            let bytes = Array(block.bytes[row.offset ..< covered])
            switch row.value {
            case .bytes(let expected):
                XCTAssertEqual(bytes, expected, "\(place): bytes")
            case .integer(let expected) where row.size <= 8:
                var value: UInt64 = 0
                for (shift, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * shift) }
                XCTAssertEqual(value, expected, "\(place): little-endian bytes")
            case .integer(let expected):
                XCTAssertEqual(expected, 0, "\(place): a field wider than 8 bytes can only be stated as 0")
                XCTAssertTrue(bytes.allSatisfy { $0 == 0 }, "\(place): bytes")
            }
            guard let value = decoded[row.field] else {
                XCTFail("\(place): the decoder has no field named \(row.field)")
                continue
            }
            XCTAssertEqual(value, row.value, "\(place): decoded value")
        }
        XCTAssertEqual(covered, block.bytes.count, "\(name): the rows cover the whole block")
    }

    private func littleEndianBytes(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    private func loadLE(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        bytes.withUnsafeBytes { $0.loadLE(at: offset, as: UInt64.self) }
    }
}
