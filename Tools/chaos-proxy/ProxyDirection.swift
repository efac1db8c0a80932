#if canImport(Glibc)
import Glibc
#endif

/// One way of a proxied connection: chunks read from `source` wait in a queue until their
/// delivery time (latency, jitter, stalls), then go to `destination`, paced by a bandwidth cap.
/// Delivery times never decrease, so the byte stream keeps its order.
struct ProxyDirection {
    /// Stop reading the source while this many bytes wait (back pressure instead of memory).
    static let queuedBytesMax = 1 << 20
    /// A capped direction writes at most this share of a second's bytes at a time.
    static let pacingSliceMs: UInt64 = 20

    let source: Int32
    let destination: Int32
    private var chunks: [(deliverAt: UInt64, bytes: [UInt8])] = []
    private var head = 0
    private var headOffset = 0
    private(set) var queuedBytes = 0
    private var lastDeliverAt: UInt64 = 0
    private var nextWriteAt: UInt64 = 0
    /// The source sent FIN (or the direction stopped reading for good).
    var sourceClosed = false
    /// FIN was passed on to the destination.
    var finForwarded = false

    init(source: Int32, destination: Int32) {
        self.source = source
        self.destination = destination
    }

    var isDrained: Bool { head == chunks.count }

    /// Queues `bytes` for delivery after `delayMs` (and after everything queued before).
    mutating func enqueue(_ bytes: [UInt8], now: UInt64, delayMs: UInt64) {
        guard !bytes.isEmpty else { return }
        let deliverAt = max(lastDeliverAt, now + delayMs)
        lastDeliverAt = deliverAt
        chunks.append((deliverAt, bytes))
        queuedBytes += bytes.count
    }

    /// Drops everything queued (a black hole swallows it).
    mutating func discardQueue() {
        chunks.removeAll()
        head = 0
        headOffset = 0
        queuedBytes = 0
    }

    /// When the head chunk may be written, if any is queued.
    var nextDueAt: UInt64? {
        guard head < chunks.count else { return nil }
        return max(chunks[head].deliverAt, nextWriteAt)
    }

    /// Writes what is due; returns the bytes written, or nil when the destination failed.
    mutating func writeDue(now: UInt64, bandwidth: UInt64?) -> Int? {
        var total = 0
        while head < chunks.count, chunks[head].deliverAt <= now, nextWriteAt <= now {
            var count = chunks[head].bytes.count - headOffset
            if let bandwidth { count = min(count, max(1, Int(bandwidth * ProxyDirection.pacingSliceMs / 1000))) }
            let written = chunks[head].bytes.withUnsafeBytes {
                send(destination, $0.baseAddress! + headOffset, count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return total }
                return nil
            }
            total += written
            headOffset += written
            queuedBytes -= written
            if let bandwidth { nextWriteAt = now + UInt64(written) * 1000 / bandwidth }
            if headOffset == chunks[head].bytes.count {
                head += 1
                headOffset = 0
                if head == chunks.count {
                    chunks.removeAll(keepingCapacity: true)
                    head = 0
                }
            }
        }
        return total
    }
}
