import XCTest
@testable import SeqboxProtocol

/// PROTOCOL.md as written: its worked examples decode to exactly these frames and these frames
/// encode to exactly its bytes; its tables match the code. The document and the code cannot drift.
final class GoldenExampleTests: XCTestCase {
    /// What each worked example of PROTOCOL.md holds: §5's (the session of §10.4), then the
    /// push and storage-RPC examples of §5.19–§5.21 and §14.
    private static let expected = clientSession.merging(PushAndStorageExamples.expected) { first, _ in first }

    /// The worked examples of PROTOCOL.md §5.1–§5.18.
    private static let clientSession: [String: DecodedFrame] = [
        "HELLO": DecodedFrame(requestID: 1, frame: .hello(.init(versionMin: 1, versionMax: 1))),
        "HELLO_OK": DecodedFrame(requestID: 1, frame: .helloOK(.init(
            version: 1, pullLimitMax: 256, frameLengthMax: 1_114_112, messageBodySizeMax: 65_536,
            heartbeatIntervalMs: 30_000, idleTimeoutMs: 90_000, requestsInFlightMax: 64))),
        "LOGIN": DecodedFrame(requestID: 2, frame: .login(.init(
            user: 1001, device: 7, fullHistory: false,
            token: LoginToken(expiresAtSeconds: 1_767_225_600, mac: exampleMAC).bytes))),
        "LOGIN_OK": DecodedFrame(requestID: 2, frame: .loginOK(.init(
            newestSeq: 41, confirmedSeq: 40, deviceCursor: 40, firstSeq: 1, epoch: 1))),
        "SEND": DecodedFrame(requestID: 3, frame: .send(.init(to: 1002, clientMessageID: 5001, body: Array("hi".utf8)))),
        "SEND_OK": DecodedFrame(requestID: 3, frame: .sendOK(.init(
            seq: 17, outgoingSeq: 42, timestampMs: 1_767_225_600_123, duplicate: false))),
        "PULL": DecodedFrame(requestID: 4, frame: .pull(.init(after: 40, epoch: 1, limit: 100))),
        "PULL_OK": DecodedFrame(requestID: 4, frame: .pullOK(.init(newestSeq: 42, epoch: 1, hasMore: false, records: [
            PullRecord(seq: 41, outgoing: false, peer: 1002, senderDevice: 3, clientMessageID: 9001,
                       timestampMs: 1_767_225_500_000, body: Array("hello".utf8)),
            PullRecord(seq: 42, outgoing: true, peer: 1002, senderDevice: 7, clientMessageID: 5001,
                       timestampMs: 1_767_225_600_123, body: Array("hi".utf8)),
        ]))),
        "TRUNCATED": DecodedFrame(requestID: 9, frame: .truncated(.init(firstSeq: 100, newestSeq: 250, epoch: 1))),
        "NOTIFY": DecodedFrame(requestID: 0, frame: .notify(.init(newestSeq: 43, epoch: 1))),
        "ACK": DecodedFrame(requestID: 5, frame: .ack(.init(seq: 42))),
        "ACK_OK": DecodedFrame(requestID: 5, frame: .ackOK(.init(seq: 42))),
        "BLOCK": DecodedFrame(requestID: 6, frame: .block(.init(user: 666))),
        "UNBLOCK": DecodedFrame(requestID: 7, frame: .unblock(.init(user: 666))),
        "BLOCK_OK": DecodedFrame(requestID: 6, frame: .blockOK(.init(user: 666, blocked: true))),
        "PING": DecodedFrame(requestID: 8, frame: .ping(.init(nonce: 0x1122_3344_5566_7788))),
        "PONG": DecodedFrame(requestID: 8, frame: .pong(.init(nonce: 0x1122_3344_5566_7788))),
        "ERROR": DecodedFrame(requestID: 3, frame: .error(.init(
            code: .rateLimited, closing: false, retryAfterMs: 2000, message: "slow down"))),
        "GOODBYE": DecodedFrame(requestID: 0, frame: .goodbye(.init(reason: .serverShutdown, reconnectAfterMs: 5000))),
    ]

    /// HMAC-SHA256("seqbox-example-secret", macInput of PROTOCOL.md §8), as printed there.
    private static let exampleMAC: [UInt8] = [
        0x3E, 0x4B, 0xA9, 0xB9, 0x58, 0x0B, 0xF5, 0xE3, 0xAD, 0x8F, 0xE6, 0x92, 0x0D, 0x79, 0x31, 0x00,
        0x57, 0xC4, 0x04, 0x4E, 0xBE, 0x81, 0xD6, 0xAA, 0x82, 0x31, 0xB5, 0x98, 0x62, 0xC4, 0xE2, 0xDE,
    ]

    private var document: ProtocolDocument!

    override func setUpWithError() throws {
        document = try ProtocolDocument.load()
    }

    func testThereIsOneExampleForEveryFrameType() throws {
        let names = try document.examples().map(\.name)
        XCTAssertEqual(names.count, Set(names).count, "duplicate example names: \(names)")
        XCTAssertEqual(Set(names), Set(FrameType.allCases.map(\.name)))
        XCTAssertEqual(Set(names), Set(Self.expected.keys))
    }

    func testEveryExampleDecodesExactlyAsDocumented() throws {
        for example in try document.examples() {
            let expected = try XCTUnwrap(Self.expected[example.name], "no expectation for \(example.name)")
            let receiver = SampleFrames.sender(of: expected.frame).peer
            var decoder = FrameDecoder(receiver: receiver)
            decoder.append(example.bytes)
            let decoded = try decoder.next()
            XCTAssertEqual(decoded, expected, "PROTOCOL.md line \(example.line): \(example.name)")
            XCTAssertEqual(decoder.bufferedByteCount, 0, "PROTOCOL.md line \(example.line): bytes left over")
            XCTAssertEqual(decoded?.frame.type.name, example.name)
        }
    }

    func testEveryExpectedFrameEncodesToTheDocumentedBytes() throws {
        for example in try document.examples() {
            let expected = try XCTUnwrap(Self.expected[example.name])
            let bytes = FrameEncoder.encode(expected.frame, requestID: expected.requestID)
            XCTAssertEqual(bytes, example.bytes, "PROTOCOL.md line \(example.line): \(example.name)")
        }
    }

    func testExamplesDecodeAsOneStreamPerDirection() throws {
        let examples = try document.examples()
        for receiver in Endpoint.allCases {
            let incoming = examples.filter {
                SampleFrames.sender(of: Self.expected[$0.name]!.frame) == receiver.peer
            }
            let decoded = try decodeAll(incoming.flatMap(\.bytes), receiver: receiver)
            XCTAssertEqual(decoded, incoming.map { Self.expected[$0.name]! })
        }
    }

    func testFrameTypeTableMatchesFrameType() throws {
        let rows = document.tableRows(firstCellPrefix: "0x")
        var documented: Set<UInt8> = []
        for row in rows {
            let raw = try XCTUnwrap(UInt8(row[0].dropFirst(2), radix: 16), "\(row)")
            documented.insert(raw)
            let type = try XCTUnwrap(FrameType(rawValue: raw), "row of an unknown type: \(row)")
            XCTAssertEqual(row[1], type.name)
            let sender = type == .goodbye ? "either" : (type.isSent(by: .client) ? "client" : "server")
            XCTAssertEqual(row[2], sender, "\(type)")
            let rule = switch type.requestIDRule {
            case .nonZero: "non-zero"
            case .zero: "zero"
            case .any: "any"
            }
            XCTAssertEqual(row[3], rule, "\(type)")
        }
        XCTAssertEqual(rows.count, FrameType.allCases.count)
        XCTAssertTrue(FrameType.allCases.allSatisfy { documented.contains($0.rawValue) })
    }

    func testErrorCodeTableMatchesErrorCode() throws {
        let rows = document.lines.compactMap { line -> [String]? in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5, UInt16(cells[0]) != nil, ["yes", "no"].contains(cells[2]) else { return nil }
            return cells
        }
        XCTAssertEqual(rows.map { UInt16($0[0])! }, ErrorCode.allDefined.map(\.rawValue))
        for row in rows {
            let code = ErrorCode(UInt16(row[0])!)
            XCTAssertEqual(row[1], code.name)
            XCTAssertEqual(row[2] == "yes", code.closesConnectionByDefault, "\(code)")
            XCTAssertFalse(row[4].isEmpty, "\(code) needs a client action")
        }
    }

    func testLimitsTableMatchesProtocolConstants() throws {
        let constants: [String: Int] = [
            "frameHeaderSize": ProtocolConstants.frameHeaderSize,
            "frameLengthMin": ProtocolConstants.frameLengthMin,
            "frameLengthMax": ProtocolConstants.frameLengthMax,
            "messageBodySizeMax": ProtocolConstants.messageBodySizeMax,
            "tokenSizeMax": ProtocolConstants.tokenSizeMax,
            "errorMessageSizeMax": ProtocolConstants.errorMessageSizeMax,
            "pullLimitMax": ProtocolConstants.pullLimitMax,
            "defaultRequestsInFlightMax": ProtocolConstants.defaultRequestsInFlightMax,
            "defaultHeartbeatIntervalMs": Int(ProtocolConstants.defaultHeartbeatIntervalMs),
            "defaultIdleTimeoutMs": Int(ProtocolConstants.defaultIdleTimeoutMs),
            "handshakeTimeoutMs": Int(ProtocolConstants.handshakeTimeoutMs),
            "replyTimeoutMs": Int(ProtocolConstants.replyTimeoutMs),
            "reconnectBackoffInitialMs": Int(ProtocolConstants.reconnectBackoffInitialMs),
            "reconnectBackoffMaxMs": Int(ProtocolConstants.reconnectBackoffMaxMs),
            "sendRetryWindowAppends": ProtocolConstants.sendRetryWindowAppends,
        ]
        var seen: Set<String> = []
        for (name, value) in constants {
            let row = try XCTUnwrap(document.tableRows(firstCellPrefix: name).first { $0[0] == name }, "\(name) missing")
            let number = row[1].split(separator: " ").first.map { $0.replacingOccurrences(of: ",", with: "") }
            XCTAssertEqual(number.flatMap { Int($0) }, value, "\(name): \(row[1])")
            seen.insert(name)
        }
        XCTAssertEqual(seen.count, constants.count)
    }

    func testTokenExampleMatchesLoginToken() throws {
        let macInput = LoginToken.macInput(user: 1001, device: 7, expiresAtSeconds: 1_767_225_600)
        XCTAssertEqual(try document.hexValue(labelled: "macInput"), macInput)
        XCTAssertEqual(try document.hexValue(labelled: "mac      "), Self.exampleMAC)
        guard case .login(let login) = Self.expected["LOGIN"]!.frame else { return XCTFail() }
        let token = try XCTUnwrap(LoginToken(bytes: login.token))
        XCTAssertEqual(token.expiresAtSeconds, 1_767_225_600)
        XCTAssertEqual(token.macInput(user: login.user, device: login.device), macInput)
    }
}
