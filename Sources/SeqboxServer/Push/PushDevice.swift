import SeqboxFormat
import SeqboxProtocol

/// One device's registered push token: where the tips of its user go. Personal data: kept only
/// in the push state (DATA/push), never in the mailbox log, and never logged.
public struct PushDevice: Hashable, Sendable {
    public var device: DeviceID
    public var platform: PushPlatform
    /// The token as the platform issued it (1...`ProtocolConstants.pushTokenSizeMax` bytes).
    public var token: [UInt8]

    public init(device: DeviceID, platform: PushPlatform, token: [UInt8]) {
        self.device = device
        self.platform = platform
        self.token = token
    }

    /// The token as the webhook carries it: lowercase hex for APNs (the form its HTTP/2 API
    /// takes in the request path), the text itself for FCM (registration tokens are ASCII).
    var tokenText: String {
        switch platform {
        case .apns: hex(token)
        case .fcm: String(decoding: token, as: UTF8.self)
        }
    }

    /// Why `token` cannot be registered for `platform`, or nil when it can. FCM tokens travel
    /// as JSON text, so they must be printable ASCII.
    static func refusal(platform: PushPlatform, token: [UInt8]) -> String? {
        guard !token.isEmpty, token.count <= ProtocolConstants.pushTokenSizeMax else {
            return "a push token has 1...\(ProtocolConstants.pushTokenSizeMax) bytes"
        }
        if platform == .fcm && !token.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) {
            return "an FCM token is printable ASCII"
        }
        return nil
    }
}
