import SeqboxFormat
import XCTest

/// Little-endian writing and bounds-checked reading of index and checkpoint bytes.
final class ByteCodingTests: XCTestCase {
    func testTheWriterAppendsLittleEndianIntegers() {
        var writer = ByteWriter()
        writer.append(UInt8(0x01))
        writer.append(UInt16(0x0302))
        writer.append(UInt32(0x0706_0504))
        writer.append(UInt64(0x0F0E_0D0C_0B0A_0908))
        writer.appendZeros(3)
        writer.append(bytes: [0xAA, 0xBB])
        XCTAssertEqual(writer.bytes, Array(1 ... 15) + [0, 0, 0, 0xAA, 0xBB])
        XCTAssertEqual(writer.count, 20)
    }

    func testTheChecksumTrailerIsXXH3OfEverythingBefore() {
        var writer = ByteWriter()
        writer.append(bytes: Array("some index bytes".utf8))
        let expected = Checksum.xxh3(writer.bytes)
        writer.appendChecksumTrailer()
        XCTAssertEqual(writer.count, 24)
        XCTAssertEqual(writer.bytes.withUnsafeBytes { $0.loadLE(at: 16, as: UInt64.self) }, expected)
    }

    func testTheReaderReadsBackWhatTheWriterWrote() throws {
        var writer = ByteWriter()
        writer.append(UInt8.max)
        writer.append(UInt16(513))
        writer.append(UInt32.max - 1)
        writer.append(UInt64(1) << 63)
        writer.append(bytes: [9, 8, 7])
        try writer.bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            XCTAssertEqual(try reader.read(UInt8.self), .max)
            XCTAssertEqual(try reader.read(UInt16.self), 513)
            XCTAssertEqual(try reader.read(UInt32.self), .max - 1)
            XCTAssertEqual(try reader.read(UInt64.self), 1 << 63)
            try reader.skip(1)
            XCTAssertEqual(Array(try reader.readBytes(2)), [8, 7])
            XCTAssertEqual(reader.remaining, 0)
        }
    }

    /// The reader sees a view shorter than the memory behind it: a read past the view would
    /// succeed if the bounds were not checked.
    func testTheReaderNeverReadsPastItsBytes() throws {
        let backing = [UInt8](repeating: 0x11, count: 64)
        try backing.withUnsafeBytes { raw in
            for count in 0 ..< 16 {
                let view = UnsafeRawBufferPointer(rebasing: raw[0 ..< count])
                var reader = ByteReader(view)
                XCTAssertEqual((try? reader.read(UInt64.self)) != nil, count >= 8, "u64 from \(count) bytes")
                reader = ByteReader(view)
                XCTAssertEqual((try? reader.read(UInt32.self)) != nil, count >= 4, "u32 from \(count) bytes")
                reader = ByteReader(view)
                XCTAssertEqual((try? reader.readBytes(count + 1)) != nil, false, "\(count + 1) bytes from \(count)")
                XCTAssertEqual(reader.offset, 0, "a failed read does not move")
                XCTAssertEqual((try? reader.readBytes(count))?.count, count)
                XCTAssertThrowsError(try reader.skip(1))
            }
        }
    }

    func testAFailedReadLeavesTheOffsetWhereItWas() throws {
        try [UInt8](repeating: 0, count: 6).withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            _ = try reader.read(UInt32.self)
            XCTAssertThrowsError(try reader.read(UInt32.self))
            XCTAssertEqual(reader.offset, 4)
            XCTAssertEqual(try reader.read(UInt16.self), 0)
        }
    }

    func testNegativeCountsAndOffsetsPastTheEndThrow() throws {
        try [UInt8](repeating: 0, count: 8).withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            XCTAssertThrowsError(try reader.readBytes(-1))
            XCTAssertThrowsError(try reader.skip(-8))
            var pastTheEnd = ByteReader(raw, offset: 9)
            XCTAssertThrowsError(try pastTheEnd.read(UInt8.self))
            XCTAssertThrowsError(try pastTheEnd.readBytes(0))
            XCTAssertEqual(pastTheEnd.remaining, -1)
        }
    }

    func testLoadAndStoreAreLittleEndianAtAnyOffset() {
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeMutableBytes { $0.storeLE(UInt64(0x0807_0605_0403_0201), at: 3) }
        XCTAssertEqual(Array(bytes[3 ..< 11]), [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(bytes.withUnsafeBytes { $0.loadLE(at: 5, as: UInt32.self) }, 0x0605_0403)
    }
}
