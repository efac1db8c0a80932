import SeqboxProtocol
import SeqboxSystem
import XCTest
@testable import SeqboxServer

/// The output buffer and the loop inbox, without a running server.
final class AccessBufferTests: XCTestCase {
    // MARK: OutputBuffer

    func testOutputBufferWritesFramesInOrderAcrossPartialWrites() throws {
        var buffer = OutputBuffer(retainedCapacityMax: 1 << 10)
        var expected: [UInt8] = []
        for nonce in 0 ..< 50 {
            let frame = Frame.pong(Frame.Pong(nonce: UInt64(nonce)))
            buffer.append(frame, requestID: UInt32(nonce + 1))
            expected += FrameEncoder.encode(frame, requestID: UInt32(nonce + 1))
        }
        XCTAssertEqual(buffer.pendingByteCount, expected.count)
        var written: [UInt8] = []
        var chunk = 1
        while !buffer.isEmpty {
            buffer.write { pending in
                let count = min(chunk, pending.count)
                written += pending[..<count]
                return count
            }
            chunk = chunk % 37 + 1  // odd sizes: every frame boundary is crossed somewhere
            if written.count % 3 == 0 { buffer.append(encoded: []) }  // appends between writes compact
        }
        XCTAssertEqual(written, expected)
    }

    func testOutputBufferCompactsSoTheArrayStaysNearThePendingSize() {
        var buffer = OutputBuffer(retainedCapacityMax: 1 << 20)
        let frame = Frame.notify(Frame.Notify(newestSeq: 1, epoch: 1))
        let size = FrameEncoder.encodedSize(of: frame)
        for _ in 0 ..< 10_000 {
            buffer.append(frame, requestID: 0)
            buffer.append(frame, requestID: 0)
            buffer.write { _ in size }  // write one of the two
        }
        XCTAssertEqual(buffer.pendingByteCount, 10_000 * size)
        XCTAssertLessThanOrEqual(buffer.capacity, 4 * buffer.pendingByteCount + 1_024)
    }

    func testADrainedOutputBufferReleasesALargeArray() {
        var buffer = OutputBuffer(retainedCapacityMax: 4 << 10)
        buffer.append(encoded: [UInt8](repeating: 1, count: 100 << 10))
        buffer.write { $0.count }
        XCTAssertTrue(buffer.isEmpty)
        XCTAssertEqual(buffer.capacity, 0)
        buffer.append(encoded: [UInt8](repeating: 1, count: 100))
        buffer.write { $0.count }
        XCTAssertGreaterThan(buffer.capacity, 0, "a small buffer is kept for reuse")
        XCTAssertLessThanOrEqual(buffer.capacity, 4 << 10)
    }

    // MARK: EventLoopInbox

    func testTheInboxIsBoundedInTasksAndBytesAndWakesOncePerBatch() throws {
        let wakeup = try EventFD.create()
        defer { wakeup.close() }
        let inbox = EventLoopInbox(tasksMax: 3, bytesMax: 100, wakeup: wakeup)
        XCTAssertFalse(wakeup.drain(), "nothing signalled yet")
        XCTAssertEqual(inbox.enqueue(.run {}, byteCount: 10), .accepted)
        XCTAssertTrue(wakeup.drain(), "the first task wakes the loop")
        XCTAssertEqual(inbox.enqueue(.run {}, byteCount: 10), .accepted)
        XCTAssertFalse(wakeup.drain(), "later tasks of the batch do not signal again")
        XCTAssertEqual(inbox.enqueue(.run {}, byteCount: 81), .full, "bytes bound")
        XCTAssertEqual(inbox.enqueue(.run {}, byteCount: 80), .accepted)
        XCTAssertEqual(inbox.enqueue(.run {}), .full, "task bound")

        var tasks: [LoopTask] = []
        inbox.takeAll(into: &tasks)
        XCTAssertEqual(tasks.count, 3)
        tasks.removeAll()
        XCTAssertEqual(inbox.enqueue(.run {}, byteCount: 100), .accepted, "bounds reset after a drain")
        XCTAssertTrue(wakeup.drain())
        XCTAssertEqual(inbox.close().count, 1)
        XCTAssertEqual(inbox.enqueue(.run {}), .closed)
        inbox.wake()
        XCTAssertFalse(wakeup.drain(), "a closed inbox never signals")
    }
}
