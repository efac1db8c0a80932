import CCrypto

/// HMAC-SHA256 and a constant-time comparison, computed by OpenSSL's libcrypto.
///
/// Login tokens are MACs over their fields (PROTOCOL.md §8); no cryptography is written here,
/// only the calls into libcrypto.
enum HMACSHA256 {
    /// Size of a MAC in bytes.
    static let macSize = 32

    /// HMAC-SHA256(key, message).
    static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        precondition(!key.isEmpty, "an HMAC key must not be empty")
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var outputLength: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                output.withUnsafeMutableBufferPointer { outputBytes in
                    HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                         messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count,
                         outputBytes.baseAddress, &outputLength)
                }
            }
        }
        precondition(result != nil && Int(outputLength) == macSize, "libcrypto HMAC-SHA256 failed")
        return Array(output.prefix(macSize))
    }

    /// Whether `first` and `second` are equal, in time that depends only on their length
    /// (CRYPTO_memcmp), so a forger learns nothing from how fast a wrong MAC is refused.
    static func constantTimeEqual(_ first: [UInt8], _ second: [UInt8]) -> Bool {
        guard first.count == second.count else { return false }
        guard !first.isEmpty else { return true }
        return first.withUnsafeBytes { a in
            second.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }

    /// `count` bytes from libcrypto's CSPRNG (RAND_bytes), or nil if it cannot provide them.
    static func randomBytes(count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        let status = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        return status == 1 ? bytes : nil
    }
}
