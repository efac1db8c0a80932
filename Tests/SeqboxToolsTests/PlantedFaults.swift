import Foundation
import SeqboxFormat
import SeqboxStore
import XCTest

/// The faults the tool tests plant in a fixture store by byte surgery, each with what fsck
/// must report: the file and offset it names, and the lost ranges (user → seqs).
struct PlantedFault {
    let kind: String
    let file: String
    let offset: Int?
    let lost: [UInt64: ClosedRange<UInt32>]
    /// The file as it was right after the fault was planted (what the backup must hold).
    let damagedFile: String
    let damagedBytes: [UInt8]?

    /// Nonzero garbage after the last record of the active segment: an interrupted write.
    static func tornTail(_ fixture: StoreFixture) throws -> PlantedFault {
        let last = fixture.segmentNames.last!
        let end = try fixture.dataEnd(of: last)
        try fixture.patch(last) { bytes in for index in end ..< end + 100 { bytes[index] = 0xAB } }
        return PlantedFault(kind: "torn-tail", file: last, offset: end, lost: [:], damagedFile: last, damagedBytes: try fixture.bytes(last))
    }

    /// A flipped bit in the last record of the active segment. The checkpoint written at close
    /// covers it, so it was synced: corruption, not a torn tail, and its seq (the mailbox's
    /// newest) is lost, which only the checkpoint remembers.
    static func flippedBitInLastRecord(_ fixture: StoreFixture) throws -> PlantedFault {
        let last = fixture.segmentNames.last!
        return try flipPayloadBit(fixture, in: last, record: try fixture.records(in: last).last!, byte: 1, mask: 0x01)
    }

    /// The image of a crash in the middle of writing the last record: the store is copied while
    /// open (after appends no checkpoint covers yet) and the copy's last record is cut short.
    /// A torn tail: the record is dropped, and no lost range is reported (it was never synced).
    static func tornUnsyncedRecord(_ fixture: StoreFixture) throws -> PlantedFault {
        try fixture.crashImage(appending: 3)
        let last = fixture.segmentNames.last!
        let record = try fixture.records(in: last).last!
        try fixture.patch(last) { bytes in
            for index in record.offset + record.header.recordSize - 16 ..< record.offset + record.header.recordSize { bytes[index] = 0 }
            bytes[record.offset + record.header.recordSize - 17] ^= 0xFF
        }
        fixture.forget(user: record.header.user.rawValue, seq: record.header.seq.rawValue)
        return PlantedFault(kind: "torn-tail", file: last, offset: record.offset, lost: [:], damagedFile: last, damagedBytes: try fixture.bytes(last))
    }

    /// A flipped payload bit in a message in the middle of the active segment, before the
    /// checkpoint's position: durable data, so corruption rather than a torn tail, and the
    /// acknowledged records after it must survive the repair.
    static func flippedBitInActiveSegment(_ fixture: StoreFixture) throws -> PlantedFault {
        let name = fixture.segmentNames.last!
        let records = try fixture.records(in: name)
        XCTAssertGreaterThan(records.count, 3, "the active segment needs records after the damaged one")
        return try flipPayloadBit(fixture, in: name, record: records[1], byte: 2, mask: 0x08)
    }

    /// A flipped payload bit in a message in the middle of a sealed segment.
    static func flippedPayloadBit(_ fixture: StoreFixture) throws -> PlantedFault {
        let name = fixture.segmentNames[1]
        return try flipPayloadBit(fixture, in: name, record: try fixture.records(in: name)[5], byte: 3, mask: 0x20)
    }

    /// A flipped bit in a sealed segment's header (its creation time field).
    static func flippedHeaderBit(_ fixture: StoreFixture) throws -> PlantedFault {
        try flipHeaderBit(fixture, in: fixture.segmentNames[2], byte: 25, mask: 0x10)
    }

    /// A sealed segment in the middle cut to 40 bytes (its magic intact, its header short).
    static func truncatedMiddleSegment(_ fixture: StoreFixture) throws -> PlantedFault {
        let names = fixture.segmentNames
        let name = names[2]
        let lost = try messageSeqs(fixture, in: name)
        try fixture.write(Array(try fixture.bytes(name)[0 ..< 40]), to: name)
        return PlantedFault(kind: "segment-header", file: name, offset: nil, lost: lost, damagedFile: name, damagedBytes: try fixture.bytes(name))
    }

    /// One flipped bit in a sealed segment's magic: a damaged header, not a foreign file.
    static func flippedMagicBit(_ fixture: StoreFixture) throws -> PlantedFault {
        try flipHeaderBit(fixture, in: fixture.segmentNames[3], byte: 2, mask: 0x01)
    }

    /// A sealed segment's index file deleted.
    static func deletedIndexFile(_ fixture: StoreFixture) throws -> PlantedFault {
        let name = fixture.segmentNames[0].replacingOccurrences(of: ".log", with: ".idx")
        try FileManager.default.removeItem(atPath: fixture.path(name))
        return PlantedFault(kind: "index-missing", file: name, offset: nil, lost: [:], damagedFile: name, damagedBytes: nil)
    }

    /// A flipped byte inside the newest checkpoint.
    static func corruptCheckpoint(_ fixture: StoreFixture) throws -> PlantedFault {
        let name = fixture.checkpointNames.last!
        try fixture.patch(name) { bytes in bytes[bytes.count / 2] ^= 0xFF }
        return PlantedFault(kind: "checkpoint-invalid", file: name, offset: nil, lost: [:], damagedFile: name, damagedBytes: try fixture.bytes(name))
    }

    /// A sealed segment in the middle of the log deleted (its index file stays behind).
    static func missingMiddleSegment(_ fixture: StoreFixture) throws -> PlantedFault {
        let names = fixture.segmentNames
        let name = names[2]
        let lost = try messageSeqs(fixture, in: name)
        try FileManager.default.removeItem(atPath: fixture.path(name))
        // fsck names the segment before the gap.
        return PlantedFault(kind: "missing-segment", file: names[1], offset: nil, lost: lost, damagedFile: name, damagedBytes: nil)
    }

    /// Flips `mask` in payload byte `byte` of a message: corruption of durable data, whose seq is lost.
    private static func flipPayloadBit(_ fixture: StoreFixture, in name: String, record: (offset: Int, header: RecordHeader),
                                       byte: Int, mask: UInt8) throws -> PlantedFault {
        XCTAssertEqual(record.header.type, .message)
        try fixture.patch(name) { bytes in bytes[record.offset + FormatConstants.recordHeaderSize + byte] ^= mask }
        let seq = record.header.seq.rawValue
        return PlantedFault(kind: "corrupt-record", file: name, offset: record.offset, lost: [record.header.user.rawValue: seq ... seq],
                            damagedFile: name, damagedBytes: try fixture.bytes(name))
    }

    /// Flips `mask` in byte `byte` of a segment's header: a damaged header, records intact.
    private static func flipHeaderBit(_ fixture: StoreFixture, in name: String, byte: Int, mask: UInt8) throws -> PlantedFault {
        try fixture.patch(name) { bytes in bytes[byte] ^= mask }
        return PlantedFault(kind: "segment-header", file: name, offset: 0, lost: [:], damagedFile: name, damagedBytes: try fixture.bytes(name))
    }

    /// The seqs of the messages in segment `name`, per user: what losing the segment loses.
    private static func messageSeqs(_ fixture: StoreFixture, in name: String) throws -> [UInt64: ClosedRange<UInt32>] {
        var seqs: [UInt64: ClosedRange<UInt32>] = [:]
        for record in try fixture.records(in: name) where record.header.type == .message {
            let seq = record.header.seq.rawValue
            let user = record.header.user.rawValue
            seqs[user] = seqs[user].map { min($0.lowerBound, seq) ... max($0.upperBound, seq) } ?? seq ... seq
        }
        return seqs
    }
}
