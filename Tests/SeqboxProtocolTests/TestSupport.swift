import Foundation
import XCTest
@testable import SeqboxProtocol

/// One frame of every type, with typical and edge values, and the side that sends it.
enum SampleFrames {
    static let token = LoginToken(expiresAtSeconds: 1_767_225_600, mac: Array(0 ..< 32)).bytes

    static let record = PullRecord(
        seq: 41, peer: 1002, senderDevice: 3, clientMessageID: 9001, timestampMs: 1_767_225_500_000,
        body: Array("hello".utf8))
    static let outgoingRecord = PullRecord(
        seq: 42, outgoing: true, peer: .max, senderDevice: 7, clientMessageID: .max, timestampMs: .max, body: [])

    /// Every frame type once, with a request ID valid for it.
    static let all: [DecodedFrame] = [
        DecodedFrame(requestID: 1, frame: .hello(.init())),
        DecodedFrame(requestID: 1, frame: .helloOK(.init())),
        DecodedFrame(requestID: 2, frame: .login(.init(user: 1001, device: 7, fullHistory: true, token: token))),
        DecodedFrame(requestID: 2, frame: .loginOK(.init(
            newestSeq: 41, confirmedSeq: 40, deviceCursor: 40, firstSeq: 1, epoch: 1))),
        DecodedFrame(requestID: 3, frame: .send(.init(to: 1002, clientMessageID: 5001, body: Array("hi".utf8)))),
        DecodedFrame(requestID: 3, frame: .sendOK(.init(
            seq: 17, outgoingSeq: 42, timestampMs: 1_767_225_600_123, duplicate: true))),
        DecodedFrame(requestID: 4, frame: .pull(.init(after: 40, epoch: 1, limit: 100))),
        DecodedFrame(requestID: 4, frame: .pullOK(.init(
            newestSeq: 42, epoch: 1, hasMore: true, records: [record, outgoingRecord]))),
        DecodedFrame(requestID: 9, frame: .truncated(.init(firstSeq: 100, newestSeq: 250, epoch: 2))),
        DecodedFrame(requestID: 0, frame: .notify(.init(newestSeq: .max, epoch: .max))),
        DecodedFrame(requestID: 5, frame: .ack(.init(seq: 42))),
        DecodedFrame(requestID: 5, frame: .ackOK(.init(seq: 42))),
        DecodedFrame(requestID: 6, frame: .block(.init(user: 666))),
        DecodedFrame(requestID: 7, frame: .unblock(.init(user: 666))),
        DecodedFrame(requestID: 6, frame: .blockOK(.init(user: 666, blocked: true))),
        DecodedFrame(requestID: .max, frame: .ping(.init(nonce: 0x1122_3344_5566_7788))),
        DecodedFrame(requestID: .max, frame: .pong(.init(nonce: 0x1122_3344_5566_7788))),
        DecodedFrame(requestID: 3, frame: .error(.init(
            code: .rateLimited, retryAfterMs: 2000, message: "slow down — ☃"))),
        DecodedFrame(requestID: 0, frame: .goodbye(.init(reason: .serverShutdown, reconnectAfterMs: 5000))),
        DecodedFrame(requestID: 10, frame: .pushRegister(.init(platform: .fcm, token: Array("fcm-token:42".utf8)))),
        DecodedFrame(requestID: 11, frame: .pushUnregister(.init())),
        DecodedFrame(requestID: 10, frame: .pushOK(.init(registered: true))),
        DecodedFrame(requestID: 20, frame: .storeAppend(.init(groups: [
            StoreAppendGroup(refuseIfBlocked: true, messages: [storeMessage, storeOutgoingMessage]),
            StoreAppendGroup(refuseIfBlocked: false, messages: [storeMessage]),
        ]))),
        DecodedFrame(requestID: 20, frame: .storeAppendOK(.init(results: [
            .stored([StoreCopy(seq: 17, duplicate: false, epoch: 1, timestampMs: 1_767_225_600_123),
                     StoreCopy(seq: .max, duplicate: true, epoch: .max, timestampMs: .max)]),
            .failed(.init(code: .blocked, message: "blocked")),
        ]))),
        DecodedFrame(requestID: 21, frame: .storePull(.init(
            user: 1001, after: 40, limit: 100, epoch: 1, frameLengthMax: UInt32(ProtocolConstants.frameLengthMax)))),
        DecodedFrame(requestID: 22, frame: .storeLoginState(.init(user: 1001, device: 7, fullHistory: true))),
        DecodedFrame(requestID: 23, frame: .storeAck(.init(user: 1001, device: 7, seq: 42))),
        DecodedFrame(requestID: 24, frame: .storeBlock(.init(user: 1001, other: 666, blocked: true))),
        DecodedFrame(requestID: 25, frame: .storeCursor(.init(user: .max, device: .max))),
        DecodedFrame(requestID: 26, frame: .storeNewest(.init(user: 1002))),
        DecodedFrame(requestID: 26, frame: .storeNewestOK(.init(newestSeq: 17, firstSeq: 1, confirmedSeq: 16, epoch: 1))),
        DecodedFrame(requestID: 27, frame: .storeStats(.init())),
        DecodedFrame(requestID: 27, frame: .storeStatsOK(.init(values: [
            StoreStatistic(name: "appends", value: 3), StoreStatistic(name: "bytes_written_2", value: .max),
        ]))),
    ]

    static let storeMessage = StoreMessage(
        user: 1002, sender: 1001, device: 7, clientMessageID: 5001, timestampMs: 1_767_225_600_123,
        outgoing: false, body: Array("hi".utf8))
    static let storeOutgoingMessage = StoreMessage(
        user: 1001, sender: 1002, device: 7, clientMessageID: 5001, timestampMs: 1_767_225_600_123,
        outgoing: true, body: [])

    /// The side that sends `frame` (the client for GOODBYE, which either side sends).
    static func sender(of frame: Frame) -> Endpoint {
        frame.type.isSent(by: .client) ? .client : .server
    }

    /// A decoder that accepts `frame`.
    static func decoder(for frame: Frame, limits: FrameLimits = .protocolMaximum) -> FrameDecoder {
        FrameDecoder(receiver: sender(of: frame).peer, limits: limits)
    }
}

/// Builds frames byte by byte, for frames the encoder refuses to produce.
enum RawFrame {
    static func make(
        type: UInt8, flags: UInt8 = 0, reserved: UInt16 = 0, requestID: UInt32, body: [UInt8]
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(UInt32(ProtocolConstants.frameLengthMin + body.count))
        bytes.append(type)
        bytes.append(flags)
        bytes.appendLittleEndian(reserved)
        bytes.appendLittleEndian(requestID)
        return bytes + body
    }

    /// `frame` with its body replaced by `transform(body)` and its length fixed up.
    static func rebody(_ frame: [UInt8], _ transform: ([UInt8]) -> [UInt8]) -> [UInt8] {
        let header = Array(frame[..<ProtocolConstants.frameHeaderSize])
        let body = transform(Array(frame[ProtocolConstants.frameHeaderSize...]))
        var bytes = header
        let length = UInt32(ProtocolConstants.frameLengthMin + body.count)
        withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(0 ..< 4, with: $0) }
        return bytes + body
    }
}

/// Decodes every frame in `bytes`, appended at once.
func decodeAll(_ bytes: [UInt8], receiver: Endpoint, limits: FrameLimits = .protocolMaximum) throws -> [DecodedFrame] {
    var decoder = FrameDecoder(receiver: receiver, limits: limits)
    decoder.append(bytes)
    var frames: [DecodedFrame] = []
    while let frame = try decoder.next() { frames.append(frame) }
    XCTAssertEqual(decoder.bufferedByteCount, 0, "bytes left over")
    return frames
}

/// Asserts that decoding `bytes` as one stream throws `expected`.
func assertDecodeFails(
    _ bytes: [UInt8], receiver: Endpoint, limits: FrameLimits = .protocolMaximum,
    _ expected: ProtocolError.Kind, file: StaticString = #filePath, line: UInt = #line
) {
    var decoder = FrameDecoder(receiver: receiver, limits: limits)
    decoder.append(bytes)
    do {
        let frame = try decoder.next()
        XCTFail("decoded \(String(describing: frame)), expected \(expected)", file: file, line: line)
    } catch {
        XCTAssertEqual(error.kind, expected, file: file, line: line)
    }
}

/// A seed for a randomized test: `SEQBOX_TEST_SEED` from the environment when set (to replay a
/// failure), else a fresh one. Printed first, so even a crashing run shows it.
func testSeed(_ test: String = #function) -> UInt64 {
    let seed = ProcessInfo.processInfo.environment["SEQBOX_TEST_SEED"].flatMap { UInt64($0) }
        ?? UInt64.random(in: 0 ... .max)
    print("\(test) seed \(seed) (replay with SEQBOX_TEST_SEED=\(seed))")
    return seed
}

/// A small deterministic generator (SplitMix64), so randomized tests replay from their seed.
struct SeededGenerator: RandomNumberGenerator {
    private(set) var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
