import XCTest
@testable import SeqboxProtocol

/// What the worked examples of PROTOCOL.md §5.19–§5.21 (offline push) and §14 (storage RPC) hold.
/// `GoldenExampleTests` decodes and re-encodes them byte for byte with the others.
enum PushAndStorageExamples {
    /// The SEND of PROTOCOL.md §5.5 as its two stored records, and its timestamp.
    private static let sentAtMs: UInt64 = 1_767_225_600_123

    static let expected: [String: DecodedFrame] = [
        "PUSH_REGISTER": DecodedFrame(requestID: 10, frame: .pushRegister(.init(platform: .apns, token: Array(1 ... 32)))),
        "PUSH_UNREGISTER": DecodedFrame(requestID: 11, frame: .pushUnregister(.init())),
        "PUSH_OK": DecodedFrame(requestID: 10, frame: .pushOK(.init(registered: true))),
        "STORE_APPEND": DecodedFrame(requestID: 3, frame: .storeAppend(.init(groups: [
            StoreAppendGroup(refuseIfBlocked: true, messages: [
                StoreMessage(user: 1002, sender: 1001, device: 7, clientMessageID: 5001, timestampMs: sentAtMs,
                             outgoing: false, body: Array("hi".utf8)),
                StoreMessage(user: 1001, sender: 1002, device: 7, clientMessageID: 5001, timestampMs: sentAtMs,
                             outgoing: true, body: Array("hi".utf8)),
            ]),
            StoreAppendGroup(refuseIfBlocked: true, messages: [
                StoreMessage(user: 1001, sender: 666, device: 1, clientMessageID: 77, timestampMs: 1_767_225_600_456,
                             outgoing: false, body: Array("hey".utf8)),
            ]),
        ]))),
        "STORE_APPEND_OK": DecodedFrame(requestID: 3, frame: .storeAppendOK(.init(results: [
            .stored([
                StoreCopy(seq: 17, duplicate: false, epoch: 1, timestampMs: sentAtMs),
                StoreCopy(seq: 42, duplicate: false, epoch: 1, timestampMs: sentAtMs),
            ]),
            .failed(.init(code: .blocked, closing: false, retryAfterMs: 0, message: "")),
        ]))),
        "STORE_PULL": DecodedFrame(requestID: 4, frame: .storePull(.init(
            user: 1001, after: 40, limit: 100, epoch: 1, frameLengthMax: 1_114_112))),
        "STORE_LOGIN_STATE": DecodedFrame(requestID: 5, frame: .storeLoginState(.init(user: 1001, device: 7, fullHistory: false))),
        "STORE_ACK": DecodedFrame(requestID: 6, frame: .storeAck(.init(user: 1001, device: 7, seq: 42))),
        "STORE_BLOCK": DecodedFrame(requestID: 7, frame: .storeBlock(.init(user: 1001, other: 666, blocked: true))),
        "STORE_CURSOR": DecodedFrame(requestID: 8, frame: .storeCursor(.init(user: 1001, device: 7))),
        "STORE_NEWEST": DecodedFrame(requestID: 9, frame: .storeNewest(.init(user: 1002))),
        "STORE_NEWEST_OK": DecodedFrame(requestID: 9, frame: .storeNewestOK(.init(
            newestSeq: 17, firstSeq: 1, confirmedSeq: 16, epoch: 1))),
        "STORE_STATS": DecodedFrame(requestID: 10, frame: .storeStats(.init())),
        "STORE_STATS_OK": DecodedFrame(requestID: 10, frame: .storeStatsOK(.init(values: [
            StoreStatistic(name: "appends", value: 3), StoreStatistic(name: "mailboxes", value: 2),
        ]))),
    ]
}

/// PROTOCOL.md's push and storage-RPC sections as written: where their examples live, their
/// limits, their cross-references. The examples' bytes are checked by `GoldenExampleTests`.
final class PushAndStorageGoldenTests: XCTestCase {
    private var document: ProtocolDocument!

    override func setUpWithError() throws {
        document = try ProtocolDocument.load()
    }

    /// The heading line index of the section whose heading starts with `prefix`.
    private func headingLine(_ prefix: String) throws -> Int {
        try XCTUnwrap(document.lines.firstIndex { $0.hasPrefix(prefix) }, "no heading \(prefix)")
    }

    func testPushExamplesAreInTheirFrameSections() throws {
        let examples = try document.examples()
        let sections = ["PUSH_REGISTER": "### 5.19 ", "PUSH_UNREGISTER": "### 5.20 ", "PUSH_OK": "### 5.21 "]
        for (name, heading) in sections {
            let example = try XCTUnwrap(examples.first { $0.name == name }, "no example \(name)")
            let start = try headingLine(heading)
            XCTAssertTrue(document.lines[start].contains(name), document.lines[start])
            let next = document.lines[(start + 1)...].firstIndex { $0.hasPrefix("#") } ?? document.lines.count
            XCTAssertTrue((start ..< next).contains(example.line - 1), "\(name) example at line \(example.line)")
        }
    }

    func testEveryStorageExampleIsInSection14AndOnlyThere() throws {
        let section14 = try headingLine("## 14. Storage RPC")
        for example in try document.examples() {
            let isStorage = example.name.hasPrefix("STORE_")
            XCTAssertEqual(example.line - 1 > section14, isStorage, "\(example.name) at line \(example.line)")
        }
        let storageTypes = FrameType.allCases.filter { $0.name.hasPrefix("STORE_") }
        XCTAssertEqual(Set(try document.examples().map(\.name).filter { $0.hasPrefix("STORE_") }),
                       Set(storageTypes.map(\.name)))
    }

    func testStorageFrameTypesUseTheirOwnRanges() {
        for type in FrameType.allCases {
            let inStorageRange = (0x40 ... 0x4F).contains(type.rawValue) || (0xC0 ... 0xCF).contains(type.rawValue)
            XCTAssertEqual(type.name.hasPrefix("STORE_"), inStorageRange, "\(type)")
        }
    }

    func testFrameTypeTableSectionsExist() throws {
        for row in document.tableRows(firstCellPrefix: "0x") {
            let section = row[5]
            XCTAssertTrue(section.hasPrefix("§"), "\(row)")
            let heading = "### " + section.dropFirst() + " "
            XCTAssertNoThrow(try headingLine(heading), "\(row[1]) points to \(section)")
            if let line = try? headingLine(heading) {
                XCTAssertTrue(document.lines[line].contains(row[1]), "\(document.lines[line]) should name \(row[1])")
            }
        }
    }

    func testPushAndStorageLimitsMatchProtocolConstants() throws {
        let constants: [String: Int] = [
            "pushTokenSizeMax": ProtocolConstants.pushTokenSizeMax,
            "storeAppendGroupsMax": ProtocolConstants.storeAppendGroupsMax,
            "storeAppendGroupMessagesMax": ProtocolConstants.storeAppendGroupMessagesMax,
            "storeStatisticsMax": ProtocolConstants.storeStatisticsMax,
            "storeStatisticNameSizeMax": ProtocolConstants.storeStatisticNameSizeMax,
        ]
        for (name, value) in constants {
            let row = try XCTUnwrap(document.tableRows(firstCellPrefix: name).first { $0[0] == name }, "\(name) missing")
            let number = row[1].split(separator: " ").first.map { $0.replacingOccurrences(of: ",", with: "") }
            XCTAssertEqual(number.flatMap { Int($0) }, value, "\(name): \(row[1])")
        }
    }

    func testStorePullExampleAsksForThePullExample() throws {
        guard case .storePull(let storePull) = PushAndStorageExamples.expected["STORE_PULL"]?.frame else {
            return XCTFail("no STORE_PULL example")
        }
        let pull = Frame.Pull(after: 40, epoch: 1, limit: 100)
        XCTAssertEqual(Frame.Pull(after: storePull.after, epoch: storePull.epoch, limit: storePull.limit), pull)
        XCTAssertEqual(Int(storePull.frameLengthMax), ProtocolConstants.frameLengthMax)
    }

    func testStorePullFrameLimitFloorMatchesTheDocument() {
        // PROTOCOL.md §14.5: "8 + 12 + 44 + messageBodySizeMax: 65,600 by default".
        XCTAssertEqual(FrameLimits.frameLengthNeeded(messageBodySizeMax: ProtocolConstants.messageBodySizeMax), 65_600)
    }
}
