import CLZ4

/// LZ4 block compression of record payloads (FORMAT.md "Compression").
public enum Compression {
    /// LZ4's worst-case output size for `inputSize` bytes.
    public static func maxCompressedSize(_ inputSize: Int) -> Int {
        Int(LZ4_compressBound(Int32(inputSize)))
    }

    /// Compresses `input`; returns the stored bytes and whether they are compressed. The
    /// payload is kept raw when it is short or compression does not save an aligned slot.
    public static func encodePayload(_ input: UnsafeRawBufferPointer) -> (bytes: [UInt8], compressed: Bool) {
        if input.count < FormatConstants.compressionThresholdBytes {
            return (Array(input), false)
        }
        let bound = maxCompressedSize(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            LZ4_compress_default(
                input.baseAddress!.assumingMemoryBound(to: CChar.self),
                out.baseAddress!.assumingMemoryBound(to: CChar.self),
                Int32(input.count), Int32(bound))
        }
        let rawSlot = FormatConstants.alignUp(input.count, to: FormatConstants.recordAlignment)
        let packedSlot = FormatConstants.alignUp(Int(written), to: FormatConstants.recordAlignment)
        if written <= 0 || packedSlot >= rawSlot { return (Array(input), false) }
        output.removeSubrange(Int(written)...)
        return (output, true)
    }

    /// Decompresses `input` into exactly `rawLength` bytes; nil when the block is malformed.
    public static func decompress(_ input: UnsafeRawBufferPointer, rawLength: Int) -> [UInt8]? {
        if rawLength == 0 { return [] }
        var output = [UInt8](repeating: 0, count: rawLength)
        let produced = output.withUnsafeMutableBytes { out in
            LZ4_decompress_safe(
                input.baseAddress?.assumingMemoryBound(to: CChar.self),
                out.baseAddress!.assumingMemoryBound(to: CChar.self),
                Int32(input.count), Int32(rawLength))
        }
        return produced == Int32(rawLength) ? output : nil
    }
}
