import Foundation
import SeqboxFormat
import XCTest

/// Helpers shared by the format tests: encode/decode records over plain byte arrays.
enum FormatTestSupport {
    /// Encodes `header` with `payload` (stored as given) at `offset` of a zeroed buffer of
    /// `bufferSize` bytes; returns the buffer.
    static func encodeRecord(
        _ header: RecordHeader, payload: [UInt8], offset: Int = 0, segmentBase: LogPosition = .zero, bufferSize: Int? = nil
    ) -> [UInt8] {
        let size = RecordCodec.recordSize(storedLength: payload.count)
        var buffer = [UInt8](repeating: 0, count: bufferSize ?? offset + size)
        buffer.withUnsafeMutableBytes { raw in
            payload.withUnsafeBytes { payloadBytes in
                _ = RecordCodec.encode(header, payload: payloadBytes, into: raw, at: offset, segmentBase: segmentBase)
            }
        }
        return buffer
    }

    static func decode(_ bytes: [UInt8], at offset: Int = 0, segmentBase: LogPosition = .zero) -> RecordDecodeResult {
        bytes.withUnsafeBytes { RecordCodec.decode($0, at: offset, segmentBase: segmentBase) }
    }

    /// The decoded header, or nil with the reason recorded as a test failure.
    static func decodedHeader(
        _ bytes: [UInt8], at offset: Int = 0, segmentBase: LogPosition = .zero,
        file: StaticString = #filePath, line: UInt = #line
    ) -> RecordHeader? {
        switch decode(bytes, at: offset, segmentBase: segmentBase) {
        case .record(let header): return header
        case .endOfData:
            XCTFail("expected a record, decoded end of data", file: file, line: line)
            return nil
        case .invalid(let problem):
            XCTFail("expected a record, decoded problem \(problem)", file: file, line: line)
            return nil
        }
    }

    static func problem(_ result: RecordDecodeResult) -> RecordProblem? {
        if case .invalid(let problem) = result { return problem }
        return nil
    }

    static func isEndOfData(_ result: RecordDecodeResult) -> Bool {
        if case .endOfData = result { return true }
        return false
    }

    /// Recomputes the checksum of the record at `offset` after a test edited its bytes, exactly
    /// as FORMAT.md "Checksums" defines it (XXH3-64 of bytes 8 ..< 64 + storedLength, seeded
    /// with the segment base), so the test reaches the check it aims at.
    static func refreshChecksum(_ bytes: inout [UInt8], at offset: Int = 0, segmentBase: LogPosition = .zero) {
        let storedLength = bytes.withUnsafeBytes { Int($0.loadLE(at: offset + 8, as: UInt32.self)) }
        let end = min(bytes.count, offset + FormatConstants.recordHeaderSize + storedLength)
        let checksum = Checksum.xxh3(Array(bytes[(offset + FormatConstants.recordChecksumCoveredFrom) ..< end]), seed: segmentBase.rawValue)
        bytes.withUnsafeMutableBytes { $0.storeLE(checksum, at: offset) }
    }
}

/// A small seeded PRNG (SplitMix64) so randomized tests replay from their printed seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0 ..< count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }

    /// A seed from the clock, for tests that explore; failures print it.
    static func freshSeed() -> UInt64 {
        UInt64(UInt(bitPattern: Int(Date().timeIntervalSince1970 * 1e6)))
    }
}

/// Payloads that LZ4 shrinks well: repeated text.
func compressiblePayload(_ count: Int) -> [UInt8] {
    let pattern = Array("hello, seqbox! ".utf8)
    return (0 ..< count).map { pattern[$0 % pattern.count] }
}
