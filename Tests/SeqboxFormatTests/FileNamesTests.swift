import SeqboxFormat
import XCTest

/// Segment, index and checkpoint file names (FORMAT.md "Directory layout").
final class FileNamesTests: XCTestCase {
    let positions: [UInt64] = [0, 1, 64, 67_104_064, 99_999_999_999, UInt64.max]

    func testNamesAreTheZeroPaddedPositionWithTheirSuffix() {
        XCTAssertEqual(FileNames.segment(LogPosition(0)), "00000000000000000000.log")
        XCTAssertEqual(FileNames.segment(LogPosition(67_104_064)), "00000000000067104064.log")
        XCTAssertEqual(FileNames.index(LogPosition(67_104_064)), "00000000000067104064.idx")
        XCTAssertEqual(FileNames.checkpoint(LogPosition(134_208_192)), "checkpoint-00000000000134208192.ckpt")
        XCTAssertEqual(FileNames.segment(LogPosition(.max)), "18446744073709551615.log", "the largest u64 has 20 digits")
    }

    func testNamesRoundTrip() {
        for position in positions.map({ LogPosition($0) }) {
            XCTAssertEqual(FileNames.segmentBase(FileNames.segment(position)), position)
            XCTAssertEqual(FileNames.indexBase(FileNames.index(position)), position)
            XCTAssertEqual(FileNames.checkpointPosition(FileNames.checkpoint(position)), position)
        }
    }

    func testNamesSortInPositionOrder() {
        var random = SplitMix64(seed: 2024)
        let names = positions.shuffled(using: &random).map { FileNames.segment(LogPosition($0)) }
        XCTAssertEqual(names.sorted().compactMap(FileNames.segmentBase).map(\.rawValue), positions)
    }

    func testOtherNamesAreRejected() {
        let rejected = [
            "", ".log", "0.log", "0000000000000000000.log", "000000000000000000000.log",  // 1, 19 and 21 digits
            "00000000000000000000.LOG", "00000000000000000000.log.tmp", "00000000000000000000.idx",
            "0000000000000000000a.log", "+0000000000000000000.log", "-0000000000000000001.log", " 0000000000000000000.log",
            "0000000000\u{0660}000000000.log",  // an Arabic-Indic digit is a number but not ASCII
            "99999999999999999999.log",  // 20 digits beyond UInt64.max
            "checkpoint-00000000000000000000.log", "x00000000000000000000.log", "LOCK", "log",
        ]
        for name in rejected {
            XCTAssertNil(FileNames.segmentBase(name), "segment name \(name.debugDescription)")
        }
        for name in ["00000000000000000000.log", "00000000000000000000.idx.tmp", "0000000000000000000.idx"] {
            XCTAssertNil(FileNames.indexBase(name), "index name \(name.debugDescription)")
        }
        for name in ["00000000000000000000.ckpt", "checkpoint-00000000000000000000.ckpt.tmp", "checkpoint-0000000000000000000.ckpt",
                     "Checkpoint-00000000000000000000.ckpt", "checkpoint-00000000000000000000.log", "checkpoint-.ckpt"] {
            XCTAssertNil(FileNames.checkpointPosition(name), "checkpoint name \(name.debugDescription)")
        }
    }
}
