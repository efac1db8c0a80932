import XCTest
@testable import SeqboxProtocol

/// The decoder as a stream: bytes arrive in any split (PROTOCOL.md §2 "Framing").
final class StreamingTests: XCTestCase {
    /// Every sample a receiver on `receiver`'s side accepts, encoded back to back.
    private func stream(to receiver: Endpoint) -> (bytes: [UInt8], frames: [DecodedFrame]) {
        let frames = SampleFrames.all.filter { $0.frame.type.isSent(by: receiver.peer) }
        let bytes = frames.flatMap { FrameEncoder.encode($0.frame, requestID: $0.requestID) }
        return (bytes, frames)
    }

    func testDripFedOneByteAtATimeDecodesEveryFrame() throws {
        for receiver in Endpoint.allCases {
            let (bytes, expected) = stream(to: receiver)
            var decoder = FrameDecoder(receiver: receiver)
            var decoded: [DecodedFrame] = []
            for byte in bytes {
                decoder.append(CollectionOfOne(byte))
                while let frame = try decoder.next() { decoded.append(frame) }
            }
            XCTAssertEqual(decoded, expected)
            XCTAssertEqual(decoder.bufferedByteCount, 0)
        }
    }

    func testNeedsMoreDataUntilTheLastByteOfAFrame() throws {
        let bytes = FrameEncoder.encode(.ping(.init(nonce: 7)), requestID: 1)
        var decoder = FrameDecoder(receiver: .server)
        for byte in bytes.dropLast() {
            decoder.append(CollectionOfOne(byte))
            XCTAssertNil(try decoder.next())
        }
        decoder.append(CollectionOfOne(bytes.last!))
        XCTAssertEqual(try decoder.next()?.frame, .ping(.init(nonce: 7)))
        XCTAssertNil(try decoder.next())
    }

    func testManyFramesPackedInOneBuffer() throws {
        for receiver in Endpoint.allCases {
            let (bytes, frames) = stream(to: receiver)
            let repeated = Array(repeating: bytes, count: 200).flatMap { $0 }
            let decoded = try decodeAll(repeated, receiver: receiver)
            XCTAssertEqual(decoded.count, frames.count * 200)
            XCTAssertEqual(Array(decoded.prefix(frames.count)), frames)
            XCTAssertEqual(Array(decoded.suffix(frames.count)), frames)
        }
    }

    func testRandomSplitsDecodeTheSameFrames() throws {
        let seed = testSeed()
        var generator = SeededGenerator(seed: seed)
        let (bytes, frames) = stream(to: .client)
        let repeated = Array(repeating: bytes, count: 20).flatMap { $0 }
        var decoder = FrameDecoder(receiver: .client)
        var decoded: [DecodedFrame] = []
        var offset = 0
        while offset < repeated.count {
            let chunk = Int.random(in: 1 ... 300, using: &generator)
            let end = min(repeated.count, offset + chunk)
            repeated[offset ..< end].withUnsafeBytes { decoder.append($0) }
            offset = end
            while let frame = try decoder.next() { decoded.append(frame) }
        }
        XCTAssertEqual(decoded.count, frames.count * 20, "seed \(seed)")
        XCTAssertEqual(Array(decoded.prefix(frames.count)), frames, "seed \(seed)")
    }

    func testBufferStaysBoundedWhenDrainedAfterEachAppend() throws {
        let frame = FrameEncoder.encode(.notify(.init(newestSeq: 1, epoch: 1)), requestID: 0)
        var decoder = FrameDecoder(receiver: .client)
        // Appending 1.5 frames at a time leaves a partial frame behind every time.
        let stream = Array(repeating: frame, count: 3000).flatMap { $0 }
        let chunk = frame.count * 3 / 2
        var count = 0
        for start in stride(from: 0, to: stream.count, by: chunk) {
            decoder.append(stream[start ..< min(stream.count, start + chunk)])
            while try decoder.next() != nil { count += 1 }
            XCTAssertLessThan(decoder.bufferedByteCount, frame.count)
            XCTAssertLessThanOrEqual(decoder.bufferCapacity, 4 * chunk + 64)
        }
        XCTAssertEqual(count, 3000)
    }

    func testLargeFrameBufferIsReleasedOnceDrained() throws {
        let body = [UInt8](repeating: 0x5A, count: ProtocolConstants.messageBodySizeMax)
        let send = FrameEncoder.encode(.send(.init(to: 2, clientMessageID: 1, body: body)), requestID: 1)
        var decoder = FrameDecoder(receiver: .server, limits: .clientFrames)
        decoder.append(send + send)
        XCTAssertNotNil(try decoder.next())
        XCTAssertNotNil(try decoder.next())
        XCTAssertNil(try decoder.next())
        XCTAssertEqual(decoder.bufferedByteCount, 0)
        XCTAssertLessThanOrEqual(decoder.bufferCapacity, ProtocolConstants.decoderRetainedCapacityMax)
    }

    func testEmptyAppendIsANoOp() throws {
        var decoder = FrameDecoder(receiver: .server)
        decoder.append([UInt8]())
        [UInt8]().withUnsafeBytes { decoder.append($0) }
        XCTAssertEqual(decoder.bufferedByteCount, 0)
        XCTAssertNil(try decoder.next())
    }
}
