import SeqboxStore

/// The self-describing payload of a stress append: "user=U cmid=C;" then filler derived from C
/// alone (random bytes for even ids, a repeated phrase for odd ones, so both stored forms,
/// raw and LZ4, are exercised). A checker needs nothing but the payload to verify it.
enum StressPayload {
    static let phrase = Array("every acknowledged message survives ".utf8)

    static func prefix(user: UInt64, clientMessageID: UInt64) -> [UInt8] {
        Array("user=\(user) cmid=\(clientMessageID);".utf8)
    }

    /// A payload of `size` bytes (at least the prefix).
    static func make(user: UInt64, clientMessageID: UInt64, size: Int) -> [UInt8] {
        var bytes = prefix(user: user, clientMessageID: clientMessageID)
        bytes.reserveCapacity(max(size, bytes.count))
        appendFiller(to: &bytes, clientMessageID: clientMessageID, upTo: size)
        return bytes
    }

    private static func appendFiller(to bytes: inout [UInt8], clientMessageID: UInt64, upTo size: Int) {
        var random = SeededRandom(seed: clientMessageID)
        let start = bytes.count
        while bytes.count < size {
            if clientMessageID & 1 == 1 {
                bytes.append(phrase[(bytes.count - start) % phrase.count])
            } else {
                bytes.append(UInt8(truncatingIfNeeded: random.next()))
            }
        }
    }

    /// Why `payload` is not the one `make` gives for (`user`, `clientMessageID`), or nil.
    static func problem(_ payload: [UInt8], user: UInt64, clientMessageID: UInt64) -> String? {
        let expectedPrefix = prefix(user: user, clientMessageID: clientMessageID)
        guard payload.starts(with: expectedPrefix) else {
            let shown = String(decoding: payload.prefix(40), as: UTF8.self)
            return "payload does not start with '\(String(decoding: expectedPrefix, as: UTF8.self))' but '\(shown)'"
        }
        guard payload == make(user: user, clientMessageID: clientMessageID, size: payload.count) else {
            return "payload filler is damaged (\(payload.count) bytes)"
        }
        return nil
    }
}
