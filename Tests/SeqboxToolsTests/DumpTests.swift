import Foundation
import SeqboxFormat
import SeqboxStore
import SeqboxTooling
import XCTest

/// seqbox-dump on the small deterministic store of `DumpFixture`: its table and JSON output
/// match the expected text exactly.
final class DumpTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "seqbox-dump-\(UUID().uuidString)"
        try DumpFixture.build(in: directory)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func assertOutput(_ arguments: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        let result = ToolRunner.dump(arguments + [directory])
        XCTAssertEqual(result.status, 0, result.standardError, file: file, line: line)
        XCTAssertEqual(result.standardError, "", file: file, line: line)
        XCTAssertEqual(result.standardOutput, expected, file: file, line: line)
    }

    func testSegmentListingTable() {
        assertOutput([], """
        FILE                      BASE  SIZE  DATA  RECORDS  STATE   CHECKSUMS
        00000000000000000000.log     0  4096   624        8  sealed  ok
        00000000000000000624.log   624  4096   224        2  active  ok
        2 segments, 10 records, 848 bytes of log

        """)
    }

    func testSegmentListingJSONLines() {
        assertOutput(["--segments", "--json"], """
        {"file":"00000000000000000000.log","base":0,"size":4096,"dataBytes":624,"records":8,"state":"sealed","checksumsOK":true,"headerOK":true,"damagedBytes":0,"tornTailOffset":null,"strayBytes":0}
        {"file":"00000000000000000624.log","base":624,"size":4096,"dataBytes":224,"records":2,"state":"active","checksumsOK":true,"headerOK":true,"damagedBytes":0,"tornTailOffset":null,"strayBytes":0}

        """)
    }

    func testRecordTable() {
        assertOutput(["--records"], """
        SEGMENT    OFFSET   TYPE     USER     SEQ      TIME-MS        SENDER   DEVICE  CLIENT-ID  FLAGS  STORED  RAW     DETAIL
        0          64       message  1        1        1700000000000  9        1       1          b      7       7       "hello 0"
        0          136      message  2        1        1700000000001  9        1       2          b      7       7       "hello 1"
        0          208      message  1        2        1700000000002  9        1       3          b      7       7       "hello 2"
        0          280      message  2        2        1700000000003  9        1       4          b      7       7       "hello 3"
        0          352      message  1        3        1700000000004  9        1       5          b      7       7       "hello 4"
        0          424      message  2        3        1700000000005  9        1       6          b      7       7       "hello 5"
        0          496      ack      1        2        1700000000000  0        1       0          b      0       0       device 1 acknowledged seq 2
        0          560      block    2        0        1700000000000  9        0       0          b      0       0       blocks user 9
        624        64       message  1        4        1700000000010  9        1       7          cb     23      128     "again and again again and again …"
        624        152      message  2        4        1700000000011  2        3       8          ob     3       3       "bye"

        """)
    }

    func testRecordJSONLinesWithFilters() {
        assertOutput(["--records", "--json", "--user", "2", "--type", "message", "--from-seq", "3"], """
        {"segment":0,"offset":424,"position":424,"type":"message","user":2,"seq":3,"timestampMs":1700000000005,"sender":9,"device":1,"clientMessageId":6,"compressed":false,"outgoing":false,"batchStart":true,"storedLength":7,"rawLength":7,"checksum":"a81d3ae33e77bed6","payloadUTF8":"hello 5"}
        {"segment":624,"offset":152,"position":776,"type":"message","user":2,"seq":4,"timestampMs":1700000000011,"sender":2,"device":3,"clientMessageId":8,"compressed":false,"outgoing":true,"batchStart":true,"storedLength":3,"rawLength":3,"checksum":"e91a346e42f48642","payloadUTF8":"bye"}

        """)
    }

    func testRecordJSONOfOneSegmentDecompressesPayloads() {
        assertOutput(["--json", "--segment", "00000000000000000624.log", "--to-seq", "4", "--limit", "1"], """
        {"segment":624,"offset":64,"position":688,"type":"message","user":1,"seq":4,"timestampMs":1700000000010,"sender":9,"device":1,"clientMessageId":7,"compressed":true,"outgoing":false,"batchStart":true,"storedLength":23,"rawLength":128,"checksum":"85d87d9fa55f6f10","payloadUTF8":"again and again again and again again and again again and again again and again again and again again and again again and again "}

        """)
    }

    func testHexDumpOfOneRecord() {
        assertOutput(["--hex", "--type", "block"], """
        segment 0 offset 560: block user 2 seq 0, 64 bytes
          00000230  1e 29 2a c4 96 ae b7 ef  00 00 00 00 03 04 00 00  |.)*.............|
          00000240  02 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
          00000250  00 68 e5 cf 8b 01 00 00  09 00 00 00 00 00 00 00  |.h..............|
          00000260  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|

        """)
    }

    func testStatsTable() {
        assertOutput(["--stats"], """
        segments: 2, log bytes: 848, records: 10 (message 8, ack 1, block 1)
        users: 2, messages: 8
        payload bytes: 68 stored, 173 raw, compression ratio 2.54

        top 2 users by messages:
        USER  MESSAGES  STORED  RAW  NEWEST-SEQ  EPOCH
           1         4      44  149           4      1
           2         4      24   24           4      1

        top 2 users by stored bytes:
        USER  MESSAGES  STORED  RAW  NEWEST-SEQ  EPOCH
           1         4      44  149           4      1
           2         4      24   24           4      1

        messages per user:
        USER  MESSAGES  STORED  RAW  NEWEST-SEQ  EPOCH
           1         4      44  149           4      1
           2         4      24   24           4      1

        cursors per device:
        USER  DEVICE  CURSOR  NEWEST-SEQ  BEHIND
           1       1       2           4       2

        """)
    }

    func testStatsJSON() {
        assertOutput(["--stats", "--json", "--top", "1"], """
        {"segments":2,"logBytes":848,"records":10,"recordsByType":{"message":8,"ack":1,"block":1,"unblock":0,"epoch":0,"padding":0},"users":2,"messages":8,"storedPayloadBytes":68,"rawPayloadBytes":173,"compressionRatio":2.544,"topByMessages":[{"user":1,"messages":4,"storedBytes":44,"rawBytes":149,"newestSeq":4,"epoch":1}],"topByStoredBytes":[{"user":1,"messages":4,"storedBytes":44,"rawBytes":149,"newestSeq":4,"epoch":1}],"perUser":[{"user":1,"messages":4,"storedBytes":44,"rawBytes":149,"newestSeq":4,"epoch":1},{"user":2,"messages":4,"storedBytes":24,"rawBytes":24,"newestSeq":4,"epoch":1}],"cursors":[{"user":1,"device":1,"seq":2,"newestSeq":4}]}

        """)
    }

    func testDumpNeverWritesTheStore() throws {
        let before = try snapshot()
        for arguments in [[], ["--records"], ["--stats"], ["--hex"], ["--json"]] {
            XCTAssertEqual(ToolRunner.dump(arguments + [directory]).status, 0)
        }
        XCTAssertEqual(try snapshot(), before)
    }

    func testDumpReadsAStoreAServerHasOpenUpToItsLastCompleteRecord() throws {
        var options = StoreFixture.options()
        options.durability = .sync
        let store = try MailboxStore.open(directory: directory, options: options)
        defer { try? store.close() }
        _ = try store.append(NewMessage(user: UserID(5), sender: UserID(9), device: DeviceID(1), clientMessageID: ClientMessageID(99),
                                        timestampMs: StoreFixture.timestampMs, payload: Array("live".utf8)))
        let result = ToolRunner.dump(["--records", "--user", "5", directory])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("\"live\""), result.standardOutput)
    }

    func testDumpShowsDamageWhereItIs() throws {
        let segment = directory + "/log/00000000000000000000.log"
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: segment)))
        bytes[208 + 64 + 1] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: segment))
        let table = ToolRunner.dump(["--records", directory])
        XCTAssertEqual(table.status, 0)
        XCTAssertTrue(table.standardOutput.contains("0          208      damaged"), table.standardOutput)
        XCTAssertFalse(table.standardOutput.contains("\"hello 2\""), table.standardOutput)
        let segments = ToolRunner.dump([directory])
        XCTAssertTrue(segments.standardOutput.contains("72 bytes damaged"), segments.standardOutput)
    }

    private func snapshot() throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory + "/log") {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: directory + "/log/" + name))
        }
        return files
    }
}
