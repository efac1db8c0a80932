/// The push service a PUSH_REGISTER token belongs to (PROTOCOL.md §5.19). A u8 on the wire;
/// any other value is a malformed frame.
public enum PushPlatform: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Apple Push Notification service: the token is the device token's bytes.
    case apns = 1
    /// Firebase Cloud Messaging: the token is the registration token's ASCII bytes.
    case fcm = 2

    /// The name PROTOCOL.md uses.
    public var description: String {
        switch self {
        case .apns: "apns"
        case .fcm: "fcm"
        }
    }
}
