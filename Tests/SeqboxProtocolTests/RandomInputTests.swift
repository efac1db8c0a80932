import XCTest
@testable import SeqboxProtocol

/// Hostile input: corrupted and random bytes only ever yield frames or `ProtocolError`s, never a
/// crash or an out-of-bounds read. Each run prints its seed; `SEQBOX_TEST_SEED` replays one.
final class RandomInputTests: XCTestCase {
    /// Decodes `bytes` in random chunks, continuing after recoverable errors; returns frames seen.
    @discardableResult
    private func decodeHostile(_ bytes: [UInt8], receiver: Endpoint, using generator: inout SeededGenerator) -> Int {
        var decoder = FrameDecoder(receiver: receiver, limits: .clientFrames)
        var frames = 0
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + Int.random(in: 1 ... 64, using: &generator))
            decoder.append(bytes[offset ..< end])
            offset = end
            while true {
                do {
                    guard try decoder.next() != nil else { break }
                    frames += 1
                } catch {
                    if error.isFramingLost { return frames }
                }
            }
        }
        return frames
    }

    func testCorruptedValidStreamsNeverCrash() {
        let seed = testSeed()
        var generator = SeededGenerator(seed: seed)
        for receiver in Endpoint.allCases {
            let valid = SampleFrames.all.filter { $0.frame.type.isSent(by: receiver.peer) }
                .flatMap { FrameEncoder.encode($0.frame, requestID: $0.requestID) }
            for _ in 0 ..< 500 {
                var bytes = valid
                for _ in 0 ..< Int.random(in: 1 ... 4, using: &generator) {
                    let index = Int.random(in: 0 ..< bytes.count, using: &generator)
                    bytes[index] = UInt8.random(in: 0 ... .max, using: &generator)
                }
                decodeHostile(bytes, receiver: receiver, using: &generator)
            }
        }
    }

    func testRandomBytesNeverCrash() {
        let seed = testSeed()
        var generator = SeededGenerator(seed: seed)
        for _ in 0 ..< 500 {
            let count = Int.random(in: 0 ... 200, using: &generator)
            var bytes = (0 ..< count).map { _ in UInt8.random(in: 0 ... .max, using: &generator) }
            if count >= ProtocolConstants.frameHeaderSize, Bool.random(using: &generator) {
                // A length that fits the bytes, so bodies get parsed rather than refused by length.
                let length = UInt32(Int.random(in: ProtocolConstants.frameLengthMin ... count - 4, using: &generator))
                withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(0 ..< 4, with: $0) }
            }
            decodeHostile(bytes, receiver: Bool.random(using: &generator) ? .client : .server, using: &generator)
        }
    }

    func testTruncatedValidStreamsDecodeEveryWholeFrame() throws {
        let frames = SampleFrames.all.filter { $0.frame.type.isSent(by: .server) }
        let encoded = frames.map { FrameEncoder.encode($0.frame, requestID: $0.requestID) }
        let stream = encoded.flatMap { $0 }
        var boundaries = [0]
        for frame in encoded { boundaries.append(boundaries.last! + frame.count) }
        for cut in 0 ... stream.count {
            var decoder = FrameDecoder(receiver: .client)
            decoder.append(stream[..<cut])
            var count = 0
            while try decoder.next() != nil { count += 1 }
            XCTAssertEqual(count, boundaries.lastIndex { $0 <= cut }!, "cut at \(cut)")
        }
    }
}
