#if canImport(Glibc)
import Glibc
#endif
import SeqboxProtocol
import SeqboxServer

/// Mints Seqbox login tokens (PROTOCOL.md §8) with the server's secret, through the server's
/// own `TokenAuthority` (HMAC-SHA256 over libcrypto). The benchmark
/// starts `seqboxd` with the same secret in `SEQBOX_SECRET` (or is given it with `--secret` for
/// a server it did not start).
struct LoginTokenMinter {
    /// Tokens stay valid this long: longer than any run.
    static let lifetimeSeconds: UInt64 = 86_400

    let secret: [UInt8]

    func token(user: UInt64, device: UInt64, expiresAtSeconds: UInt64) -> [UInt8] {
        TokenAuthority(secret: secret).mint(user: user, device: device, expiresAtSeconds: expiresAtSeconds).bytes
    }

    /// A token valid from now for `lifetimeSeconds`.
    func token(user: UInt64, device: UInt64) -> [UInt8] {
        token(user: user, device: device, expiresAtSeconds: UInt64(time(nil)) + Self.lifetimeSeconds)
    }

    /// 32 random bytes from the kernel: a fresh secret for a server the benchmark starts.
    static func randomSecret() throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 32)
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError("cannot open /dev/urandom") }
        defer { close(fd) }
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count == bytes.count else { throw BenchError("short read from /dev/urandom") }
        return bytes
    }

    static func hex(_ bytes: [UInt8]) -> String { ServerSecret.encodeHex(bytes) }

    static func bytes(hex text: String) -> [UInt8]? { ServerSecret.decodeHex(text) }
}
