import SeqboxFormat
import XCTest

final class ScratchPrintTests: XCTestCase {
    func testPrint() {
        let payload = Array("hello, seqbox".utf8)
        let header = RecordHeader(type: .message, user: UserID(42), seq: Seq(7), timestampMs: 1_700_000_000_000,
                                  sender: UserID(1001), device: DeviceID(3), clientMessageID: ClientMessageID(99),
                                  storedLength: UInt32(payload.count), rawLength: UInt32(payload.count))
        let bytes = FormatTestSupport.encodeRecord(header, payload: payload, offset: 64)
        print(FormatTestSupport.hexDump(Array(bytes[64...]), startOffset: 64))
        let seg = SegmentHeader(basePosition: LogPosition(0), createdMs: 1_700_000_000_000, capacity: 64 << 20).encode()
        print(FormatTestSupport.hexDump(seg))
        print(String(Checksum.xxh3(Array(bytes[72 ..< 64 + 64 + 13]), seed: 0), radix: 16))
        print(FormatConstants.recordSizeMax, Compression.maxCompressedSize(FormatConstants.payloadSizeMax))
    }
}
