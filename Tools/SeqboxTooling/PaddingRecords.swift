import SeqboxFormat

/// Builds the bytes a repair writes over damaged log regions: `padding` records (RecordType
/// .padding, zero payload, checksummed with the segment's base like any record), so the
/// segment scans clean and every other record keeps its offset. A filler segment for a
/// missing range of the log is a segment header followed by padding.
enum PaddingRecords {
    /// The largest padding record: its stored (and raw) length may not exceed the payload limit.
    static let recordBytesMax = FormatConstants.recordHeaderSize + FormatConstants.payloadSizeMax

    /// True when a region of `length` bytes can be covered exactly by padding records.
    static func canCover(_ length: Int) -> Bool {
        length >= FormatConstants.recordHeaderSize && length % FormatConstants.recordAlignment == 0
    }

    /// The sizes of the records that cover `length` bytes exactly (each 64 bytes or more).
    static func recordSizes(covering length: Int) -> [Int] {
        precondition(canCover(length), "padding cannot cover \(length) bytes")
        var sizes: [Int] = []
        var remaining = length
        while remaining > 0 {
            var size = min(remaining, recordBytesMax)
            if remaining - size > 0 && remaining - size < FormatConstants.recordHeaderSize {
                size = remaining - FormatConstants.recordHeaderSize
            }
            sizes.append(size)
            remaining -= size
        }
        return sizes
    }

    /// Padding records covering exactly `length` bytes of a segment based at `base`.
    static func bytes(covering length: Int, segmentBase base: LogPosition) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: length)
        let zeros = [UInt8](repeating: 0, count: FormatConstants.payloadSizeMax)
        buffer.withUnsafeMutableBytes { out in
            zeros.withUnsafeBytes { payloadSource in
                var offset = 0
                for size in recordSizes(covering: length) {
                    let storedLength = size - FormatConstants.recordHeaderSize
                    let header = RecordHeader(type: .padding, user: UserID(0), seq: .zero, timestampMs: 0,
                                              storedLength: UInt32(storedLength), rawLength: UInt32(storedLength))
                    let payload = UnsafeRawBufferPointer(rebasing: payloadSource[0 ..< storedLength])
                    offset += RecordCodec.encode(header, payload: payload, into: out, at: offset, segmentBase: base)
                }
                precondition(offset == length, "padding does not cover the region exactly")
            }
        }
        return buffer
    }

    /// A whole filler segment for the log range [base, base + length).
    static func fillerSegment(base: LogPosition, length: Int, createdMs: UInt64) -> [UInt8] {
        precondition(length == FormatConstants.segmentHeaderSize || canCover(length - FormatConstants.segmentHeaderSize))
        var bytes = SegmentHeader(basePosition: base, createdMs: createdMs, capacity: UInt64(length)).encode()
        if length > FormatConstants.segmentHeaderSize {
            bytes += self.bytes(covering: length - FormatConstants.segmentHeaderSize, segmentBase: base)
        }
        return bytes
    }
}
