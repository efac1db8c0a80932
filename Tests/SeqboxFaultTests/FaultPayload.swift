import SeqboxFormat
import SeqboxStore

/// Payloads for fault scenarios: an identity prefix, then filler that is either incompressible
/// (random bytes) or highly compressible (a repeated phrase, so LZ4 records are exercised).
enum FaultPayload {
    /// Most payloads are small, as chat messages are; some are large enough to fill a segment fast.
    static func randomSize(_ random: inout SeededRandom, max: Int) -> Int {
        switch random.nextInt(below: 10) {
        case 0 ..< 6: random.nextInt(below: 256)
        case 6 ..< 9: 256 + random.nextInt(below: 1792)
        default: random.nextInt(below: max + 1)
        }
    }

    static func make(user: UInt64, clientMessageID: UInt64, size: Int, random: inout SeededRandom) -> [UInt8] {
        var bytes = Array("user=\(user) cmid=\(clientMessageID);".utf8)
        let compressible = random.nextInt(below: 3) == 0
        let phrase = Array("seqbox keeps every acknowledged message ".utf8)
        while bytes.count < size {
            if compressible {
                bytes.append(phrase[bytes.count % phrase.count])
            } else {
                bytes.append(UInt8(truncatingIfNeeded: random.next()))
            }
        }
        return bytes
    }
}
