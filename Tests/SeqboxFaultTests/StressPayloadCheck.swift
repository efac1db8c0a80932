import SeqboxStore

/// Checks the payloads `seqbox-stress append` writes (its format, restated here because a test
/// cannot import an executable): "user=U cmid=C;" then filler derived from C alone: a repeated
/// phrase for odd ids, SeededRandom(seed: C) bytes for even ones.
enum StressPayloadCheck {
    static let phrase = Array("every acknowledged message survives ".utf8)

    /// Why `payload` is not what the tool writes for (`user`, `clientMessageID`), or nil.
    static func problem(_ payload: [UInt8], user: UInt64, clientMessageID: UInt64) -> String? {
        let prefix = Array("user=\(user) cmid=\(clientMessageID);".utf8)
        guard payload.starts(with: prefix) else {
            return "payload starts with '\(String(decoding: payload.prefix(40), as: UTF8.self))', expected '\(String(decoding: prefix, as: UTF8.self))'"
        }
        var random = SeededRandom(seed: clientMessageID)
        for index in prefix.count ..< payload.count {
            let expected = clientMessageID & 1 == 1 ? phrase[(index - prefix.count) % phrase.count] : UInt8(truncatingIfNeeded: random.next())
            if payload[index] != expected { return "payload byte \(index) of \(payload.count) is damaged" }
        }
        return nil
    }
}
