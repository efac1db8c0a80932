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

    /// Bytes as lowercase hex, 16 a line, each line prefixed by its offset.
    static func hexDump(_ bytes: [UInt8], startOffset: Int = 0) -> String {
        stride(from: 0, to: bytes.count, by: 16).map { start in
            let line = bytes[start ..< min(start + 16, bytes.count)]
            let offset = String(startOffset + start, radix: 16)
            let padded = String(repeating: "0", count: max(0, 4 - offset.count)) + offset
            return padded + ": " + line.map { byte in
                let text = String(byte, radix: 16)
                return text.count == 1 ? "0" + text : text
            }.joined(separator: " ")
        }.joined(separator: "\n")
    }
}
