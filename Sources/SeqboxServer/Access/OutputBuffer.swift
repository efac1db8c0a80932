import SeqboxProtocol

/// Bytes queued for one connection, written to the socket from the front. A plain array with a
/// read index: frames are encoded straight into it, written bytes are dropped by amortized
/// compaction (each byte is moved at most once per byte written), and a drained buffer that grew
/// past `retainedCapacityMax` is released, so an idle connection holds almost nothing.
///
/// The bound (`AccessConfiguration.outputBufferBytesMax`) is enforced by the connection, which
/// asks `pendingByteCount` before appending: this type only stores.
struct OutputBuffer {
    private var bytes: [UInt8] = []
    /// Bytes of `bytes` before this index are written.
    private var readIndex = 0
    /// A drained buffer keeps at most this much capacity.
    let retainedCapacityMax: Int

    init(retainedCapacityMax: Int) {
        self.retainedCapacityMax = retainedCapacityMax
    }

    /// Bytes queued and not yet written.
    var pendingByteCount: Int { bytes.count - readIndex }

    var isEmpty: Bool { pendingByteCount == 0 }

    /// Bytes of memory the buffer holds (for accounting).
    var capacity: Int { bytes.capacity }

    /// Encodes `frame` at the end.
    mutating func append(_ frame: Frame, requestID: UInt32) {
        compactIfWorthwhile()
        FrameEncoder.encode(frame, requestID: requestID, into: &bytes)
    }

    /// Appends already encoded frames.
    mutating func append(encoded: [UInt8]) {
        compactIfWorthwhile()
        if bytes.isEmpty && bytes.capacity < encoded.count {
            bytes = encoded  // adopt the array: no copy for a cross-thread send into an empty buffer
        } else {
            bytes.append(contentsOf: encoded)
        }
    }

    /// Calls `body` with the pending bytes and drops as many from the front as it returns.
    mutating func write(_ body: (UnsafeRawBufferPointer) throws -> Int) rethrows {
        guard !isEmpty else { return }
        let start = readIndex
        let written = try bytes.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[start...]))
        }
        consume(written)
    }

    /// Drops `count` written bytes from the front.
    mutating func consume(_ count: Int) {
        precondition(count >= 0 && count <= pendingByteCount, "consumed more than pending")
        readIndex += count
        if readIndex == bytes.count { reset() }
    }

    /// Drops everything (the connection is aborted).
    mutating func discardAll() {
        bytes = []
        readIndex = 0
    }

    private mutating func reset() {
        if bytes.capacity > retainedCapacityMax {
            bytes = []
        } else {
            bytes.removeAll(keepingCapacity: true)
        }
        readIndex = 0
    }

    /// Drops written bytes when they are at least as many as the pending ones, so the bytes moved
    /// never exceed the bytes written (amortized O(1) per byte).
    private mutating func compactIfWorthwhile() {
        guard readIndex > 0, readIndex >= pendingByteCount else { return }
        bytes.removeSubrange(0 ..< readIndex)
        readIndex = 0
    }
}
