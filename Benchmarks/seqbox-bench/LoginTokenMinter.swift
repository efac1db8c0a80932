#if canImport(Glibc)
import Glibc
#endif
import SeqboxProtocol

/// Mints Seqbox login tokens (PROTOCOL.md §8) with the server's secret: the layout from
/// `SeqboxProtocol.LoginToken`, the MAC from this benchmark's own HMAC-SHA256. The benchmark
/// starts `seqboxd` with the same secret in `SEQBOX_SECRET` (or is given it with `--secret` for
/// a server it did not start).
struct LoginTokenMinter {
    /// Tokens stay valid this long: longer than any run.
    static let lifetimeSeconds: UInt64 = 86_400

    let secret: [UInt8]

    func token(user: UInt64, device: UInt64, expiresAtSeconds: UInt64) -> [UInt8] {
        let input = LoginToken.macInput(user: user, device: device, expiresAtSeconds: expiresAtSeconds)
        return LoginToken(expiresAtSeconds: expiresAtSeconds, mac: SHA256.hmac(key: secret, message: input)).bytes
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

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    static func bytes(hex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0") ... UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a") ... UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A") ... UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
