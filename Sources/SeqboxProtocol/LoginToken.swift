/// The byte layout of a LOGIN token (PROTOCOL.md §8 "Login tokens"):
/// version u8 | expiresAtSeconds u64 | mac (32 bytes).
///
/// `mac` is HMAC-SHA256 under a server secret over `macInput(user:device:)`. This module only
/// lays the bytes out; the server computes and compares the MAC (in constant time) and checks
/// the expiry, answering `authFailed` or `tokenExpired`.
public struct LoginToken: Hashable, Sendable {
    /// Token format version; this module knows `ProtocolConstants.tokenVersion`.
    public var version: UInt8
    /// When the token stops being accepted, in Unix seconds.
    public var expiresAtSeconds: UInt64
    /// HMAC-SHA256 of `macInput(user:device:)`, `ProtocolConstants.tokenMACSize` bytes.
    public var mac: [UInt8]

    /// A token of the current version.
    public init(expiresAtSeconds: UInt64, mac: [UInt8]) {
        precondition(mac.count == ProtocolConstants.tokenMACSize, "MAC must be 32 bytes")
        self.version = ProtocolConstants.tokenVersion
        self.expiresAtSeconds = expiresAtSeconds
        self.mac = mac
    }

    /// Parses a token, or nil when `bytes` is not a token of a known version and exact size
    /// (the server then answers `authFailed`).
    public init?(bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        guard bytes.count == ProtocolConstants.tokenSize, bytes[0] == ProtocolConstants.tokenVersion else {
            return nil
        }
        version = bytes[0]
        expiresAtSeconds = bytes[1 ..< 9].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        mac = Array(bytes[9...])
    }

    /// The token's bytes, as carried in LOGIN.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ProtocolConstants.tokenSize)
        bytes.appendLittleEndian(version)
        bytes.appendLittleEndian(expiresAtSeconds)
        bytes.append(contentsOf: mac)
        return bytes
    }

    /// The bytes the MAC covers: version u8 | user u64 | device u64 | expiresAtSeconds u64.
    /// Binding user and device means a token cannot log in as anyone else or from another device.
    public func macInput(user: UInt64, device: UInt64) -> [UInt8] {
        LoginToken.macInput(version: version, user: user, device: device, expiresAtSeconds: expiresAtSeconds)
    }

    /// The bytes the MAC covers, for minting a token before its MAC exists.
    public static func macInput(
        version: UInt8 = ProtocolConstants.tokenVersion, user: UInt64, device: UInt64, expiresAtSeconds: UInt64
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ProtocolConstants.tokenMACInputSize)
        bytes.appendLittleEndian(version)
        bytes.appendLittleEndian(user)
        bytes.appendLittleEndian(device)
        bytes.appendLittleEndian(expiresAtSeconds)
        return bytes
    }
}
