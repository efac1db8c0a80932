import SeqboxProtocol

/// Mints and verifies login tokens (PROTOCOL.md §8): HMAC-SHA256 under the server secret over
/// `version | user | device | expiresAtSeconds`, so a token logs in one user on one device
/// until it expires.
public struct TokenAuthority: Sendable {
    /// Why a token was refused; each maps to the ERROR code PROTOCOL.md §9 names.
    public enum Refusal: Error, Equatable, Sendable {
        /// Wrong size or version, or the MAC does not verify: `authFailed`.
        case invalid
        /// A valid token whose expiry has passed: `tokenExpired`.
        case expired
    }

    /// Shortest secret accepted: 16 bytes (128 bits).
    public static let secretSizeMin = 16

    private let secret: [UInt8]

    /// An authority with `secret` (at least `secretSizeMin` bytes).
    public init(secret: [UInt8]) {
        precondition(secret.count >= TokenAuthority.secretSizeMin, "the token secret is too short")
        self.secret = secret
    }

    /// A token for `user` on `device`, valid until `expiresAtSeconds` (Unix seconds).
    public func mint(user: UInt64, device: UInt64, expiresAtSeconds: UInt64) -> LoginToken {
        let input = LoginToken.macInput(user: user, device: device, expiresAtSeconds: expiresAtSeconds)
        return LoginToken(expiresAtSeconds: expiresAtSeconds, mac: HMACSHA256.mac(key: secret, message: input))
    }

    /// Checks `bytes` (a LOGIN's token) for `user` on `device` at `nowSeconds`: the layout, then
    /// the MAC in constant time, then the expiry (a forged token is never told it expired).
    public func verify(token bytes: [UInt8], user: UInt64, device: UInt64, nowSeconds: UInt64) -> Result<LoginToken, Refusal> {
        guard let token = LoginToken(bytes: bytes) else { return .failure(.invalid) }
        let expected = HMACSHA256.mac(key: secret, message: token.macInput(user: user, device: device))
        guard HMACSHA256.constantTimeEqual(expected, token.mac) else { return .failure(.invalid) }
        guard nowSeconds <= token.expiresAtSeconds else { return .failure(.expired) }
        return .success(token)
    }
}
