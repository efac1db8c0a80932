/// The preview a push tip may carry: the first bytes of the message body, cut on a UTF-8
/// character boundary so a relay never shows half a character. Off unless configured
/// (`--push-preview-bytes`): a preview sends message content to a third party.
public enum PushPreview {
    /// Largest preview a server may be configured with: push payloads are small (APNs takes
    /// 4 KiB in all), and a preview is a hint, not the message.
    public static let bytesMax = 1024

    /// The first `bytesMax` bytes of `body` or fewer, never ending inside a UTF-8 sequence;
    /// nil when `bytesMax` is 0 (previews off) or nothing is left.
    public static func cut(_ body: [UInt8], bytesMax: Int) -> [UInt8]? {
        guard bytesMax > 0, !body.isEmpty else { return nil }
        if body.count <= bytesMax { return body }
        var end = bytesMax
        // Back up over continuation bytes (10xxxxxx) to the start of the cut character, which
        // is then left out: it does not fit whole.
        while end > 0 && body[end] & 0xC0 == 0x80 { end -= 1 }
        return end == 0 ? nil : Array(body[0 ..< end])
    }

    /// The preview as text for the webhook body, or nil when the bytes are not UTF-8 (a binary
    /// message has no preview).
    static func text(_ preview: [UInt8]?) -> String? {
        guard let preview else { return nil }
        return String(validating: preview, as: UTF8.self)
    }
}
