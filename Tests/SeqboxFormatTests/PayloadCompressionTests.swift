import CLZ4
import SeqboxFormat
import XCTest

/// Payloads are LZ4 blocks only when that saves an aligned slot (FORMAT.md "Compression").
final class PayloadCompressionTests: XCTestCase {
    let threshold = FormatConstants.compressionThresholdBytes

    private func encode(_ payload: [UInt8]) -> (bytes: [UInt8], compressed: Bool) {
        payload.withUnsafeBytes { Compression.encodePayload($0) }
    }

    /// The LZ4 block size of `payload`, computed with liblz4 directly.
    private func lz4Size(_ payload: [UInt8]) -> Int {
        let bound = Int(LZ4_compressBound(Int32(payload.count)))
        var output = [UInt8](repeating: 0, count: bound)
        return Int(payload.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                LZ4_compress_default(input.baseAddress!.assumingMemoryBound(to: CChar.self), out.baseAddress!.assumingMemoryBound(to: CChar.self),
                                     Int32(payload.count), Int32(bound))
            }
        })
    }

    func testCompressiblePayloadsAreStoredCompressedAndDecodeBack() throws {
        for size in [threshold, threshold + 1, 100, 1000, 65_536, FormatConstants.payloadSizeMax] {
            let payload = compressiblePayload(size)
            let encoded = encode(payload)
            XCTAssertTrue(encoded.compressed, "size \(size)")
            XCTAssertLessThan(FormatConstants.alignUp(encoded.bytes.count, to: 8), FormatConstants.alignUp(size, to: 8), "size \(size) saves a slot")
            let decoded = encoded.bytes.withUnsafeBytes { Compression.decompress($0, rawLength: size) }
            XCTAssertEqual(decoded, payload, "size \(size)")
        }
    }

    func testACompressedPayloadIsAPlainLZ4Block() {
        let payload = compressiblePayload(5000)
        let encoded = encode(payload)
        XCTAssertTrue(encoded.compressed)
        var output = [UInt8](repeating: 0, count: payload.count)
        let produced = encoded.bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                LZ4_decompress_safe(input.baseAddress!.assumingMemoryBound(to: CChar.self), out.baseAddress!.assumingMemoryBound(to: CChar.self),
                                    Int32(encoded.bytes.count), Int32(payload.count))
            }
        }
        XCTAssertEqual(Int(produced), payload.count, "liblz4 alone decodes it: no framing, no dictionary")
        XCTAssertEqual(output, payload)
    }

    func testPayloadsShorterThanTheThresholdAreStoredRawHoweverCompressible() {
        for size in [0, 1, threshold / 2, threshold - 1] {
            let zeros = [UInt8](repeating: 0, count: size)
            let encoded = encode(zeros)
            XCTAssertFalse(encoded.compressed, "size \(size)")
            XCTAssertEqual(encoded.bytes, zeros)
        }
        XCTAssertLessThan(lz4Size([UInt8](repeating: 0, count: threshold - 1)), threshold - 8,
                          "LZ4 could shrink the zeros: the threshold alone keeps them raw")
    }

    func testIncompressiblePayloadsAreStoredRaw() {
        var random = SplitMix64(seed: 99)
        for size in [threshold, 200, 4096, FormatConstants.payloadSizeMax] {
            let payload = random.bytes(size)
            let encoded = encode(payload)
            XCTAssertFalse(encoded.compressed, "size \(size)")
            XCTAssertEqual(encoded.bytes, payload)
        }
    }

    /// Compression that shrinks the payload but not its 8-byte-aligned slot is not used.
    func testCompressionThatSavesLessThanAnAlignedSlotIsNotUsed() {
        var random = SplitMix64(seed: 1)
        var savedBytesButNoSlot = 0
        var savedASlot = 0
        for literal in stride(from: 64, to: 128, by: 4) {
            let noise = random.bytes(literal)
            for repeated in 0 ..< 48 {
                let payload = noise + [UInt8](repeating: 0x5A, count: repeated)
                let packed = lz4Size(payload)
                let encoded = encode(payload)
                let rawSlot = FormatConstants.alignUp(payload.count, to: 8)
                let packedSlot = FormatConstants.alignUp(packed, to: 8)
                if packedSlot < rawSlot {
                    savedASlot += 1
                    XCTAssertTrue(encoded.compressed, "\(payload.count) bytes → \(packed)")
                    XCTAssertEqual(encoded.bytes.count, packed)
                } else {
                    if packed < payload.count { savedBytesButNoSlot += 1 }
                    XCTAssertFalse(encoded.compressed, "\(payload.count) bytes → \(packed): same slot, stored raw")
                    XCTAssertEqual(encoded.bytes, payload)
                }
            }
        }
        XCTAssertGreaterThan(savedBytesButNoSlot, 0, "the sample includes payloads LZ4 shrinks by less than a slot")
        XCTAssertGreaterThan(savedASlot, 0, "the sample includes payloads LZ4 shrinks by a slot or more")
    }

    func testAStoredPayloadIsNeverLargerThanTheRawOne() {
        let seed = SplitMix64.freshSeed()
        var random = SplitMix64(seed: seed)
        for _ in 0 ..< 300 {
            let size = Int(random.next() % 3000)
            let payload = random.next() % 2 == 0 ? random.bytes(size) : compressiblePayload(size)
            XCTAssertLessThanOrEqual(encode(payload).bytes.count, size, "seed \(seed) size \(size)")
        }
    }

    func testDecompressingAMalformedBlockReturnsNil() {
        let payload = compressiblePayload(2000)
        let block = encode(payload).bytes
        func decompress(_ input: [UInt8], _ rawLength: Int) -> [UInt8]? {
            input.withUnsafeBytes { Compression.decompress($0, rawLength: rawLength) }
        }
        XCTAssertEqual(decompress(block, payload.count), payload, "the intact block decodes")
        XCTAssertNil(decompress(block, payload.count - 1), "a rawLength too small")
        XCTAssertNil(decompress(block, payload.count + 1), "a rawLength too large")
        XCTAssertNil(decompress(Array(block.dropLast()), payload.count), "a truncated block")
        XCTAssertNil(decompress(Array(block.prefix(block.count / 2)), payload.count), "half a block")
        XCTAssertNil(decompress([], 10), "no block")
        XCTAssertNil(decompress([UInt8](repeating: 0xFF, count: 64), 1000), "garbage")
        var random = SplitMix64(seed: 17)
        var rejected = 0
        for _ in 0 ..< 200 {
            var damaged = block
            damaged[Int(random.next() % UInt64(damaged.count))] ^= UInt8(1 + random.next() % 255)
            if let output = decompress(damaged, payload.count) {
                XCTAssertEqual(output.count, payload.count, "whatever LZ4 accepts has exactly rawLength bytes")
            } else {
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 0, "damage to a block is usually caught by LZ4 itself (the record checksum catches the rest)")
    }

    func testDecompressingToZeroBytesIsEmpty() {
        XCTAssertEqual([UInt8]().withUnsafeBytes { Compression.decompress($0, rawLength: 0) }, [])
    }

    func testMaxCompressedSizeIsLZ4sBound() {
        for size in [0, 1, 64, 1000, FormatConstants.payloadSizeMax] {
            XCTAssertEqual(Compression.maxCompressedSize(size), Int(LZ4_compressBound(Int32(size))))
            XCTAssertGreaterThanOrEqual(Compression.maxCompressedSize(size), size)
        }
    }
}
