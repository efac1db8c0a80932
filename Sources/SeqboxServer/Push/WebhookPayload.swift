import Foundation

/// The JSON body of one webhook POST: one user's tip and every device it goes to.
///
/// ```json
/// {"devices":[{"device":7,"platform":"apns","token":"9f2c…"}],
///  "epoch":1,"newest_seq":43,"preview":"see you at","sender":1002,"user":1001}
/// ```
/// `token` is lowercase hex for `apns`, the registration token's text for `fcm`; `preview` is
/// present only when previews are on and the body's first bytes are UTF-8. README.md "Offline
/// push" says how a relay maps the fields onto APNs and FCM requests.
struct WebhookPayload: Encodable, Hashable {
    struct Device: Encodable, Hashable {
        var device: UInt64
        var platform: String
        var token: String
    }

    var user: UInt64
    var newestSeq: UInt32
    var epoch: UInt32
    var sender: UInt64
    var devices: [Device]
    var preview: String?

    enum CodingKeys: String, CodingKey {
        case user
        case newestSeq = "newest_seq"
        case epoch
        case sender
        case devices
        case preview
    }

    init(tip: PushTip, devices: [PushDevice]) {
        user = tip.user.rawValue
        newestSeq = tip.newestSeq.rawValue
        epoch = tip.epoch
        sender = tip.sender.rawValue
        self.devices = devices.map { Device(device: $0.device.rawValue, platform: $0.platform.description, token: $0.tokenText) }
        preview = PushPreview.text(tip.preview)
    }

    /// The UTF-8 JSON bytes (keys sorted, so bodies are stable).
    var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        return (try? Array(encoder.encode(self))) ?? []
    }
}
