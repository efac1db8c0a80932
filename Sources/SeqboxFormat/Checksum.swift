import CXXHash

/// XXH3-64, the one checksum of the format (FORMAT.md "Checksums").
public enum Checksum {
    /// XXH3-64 of `bytes`, seeded (records use their segment's base position as the seed, so
    /// stale bytes from another segment never verify).
    @inline(__always)
    public static func xxh3(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        if seed == 0 { return XXH3_64bits(bytes.baseAddress, bytes.count) }
        return XXH3_64bits_withSeed(bytes.baseAddress, bytes.count, seed)
    }

    public static func xxh3(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { xxh3($0, seed: seed) }
    }
}
