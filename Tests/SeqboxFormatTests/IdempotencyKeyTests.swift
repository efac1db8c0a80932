import CXXHash
import SeqboxFormat
import XCTest

/// The idempotency key of a message (FORMAT.md "Idempotency").
final class IdempotencyKeyTests: XCTestCase {
    struct Components: Equatable {
        var user: UInt64 = 42
        var sender: UInt64 = 1001
        var device: UInt64 = 3
        var clientMessageID: UInt64 = 99
        var outgoing = false

        var hash: UInt64 {
            IdempotencyKey.hash(user: UserID(user), sender: UserID(sender), device: DeviceID(device),
                                clientMessageID: ClientMessageID(clientMessageID), outgoing: outgoing)
        }
    }

    func testTheKeyIsXXH3OfFiveLittleEndianWords() {
        let components = Components()
        var writer = ByteWriter()
        for word in [components.user, components.sender, components.device, components.clientMessageID, 0] { writer.append(word) }
        XCTAssertEqual(writer.count, 40)
        let expected = writer.bytes.withUnsafeBytes { XXH3_64bits($0.baseAddress, $0.count) }
        XCTAssertEqual(components.hash, expected)
    }

    func testTheKeyChangesWhenAnyComponentChanges() {
        let original = Components()
        var variants: [(String, Components)] = []
        var changed = original
        changed.user += 1; variants.append(("user", changed)); changed = original
        changed.sender += 1; variants.append(("sender", changed)); changed = original
        changed.device += 1; variants.append(("device", changed)); changed = original
        changed.clientMessageID += 1; variants.append(("clientMessageId", changed)); changed = original
        changed.outgoing = true; variants.append(("outgoing", changed)); changed = original
        changed.user = original.sender; changed.sender = original.user; variants.append(("user and sender swapped", changed))
        changed = original
        changed.device = original.clientMessageID; changed.clientMessageID = original.device
        variants.append(("device and client id swapped", changed))
        var seen: Set<UInt64> = [original.hash]
        for (label, variant) in variants {
            XCTAssertNotEqual(variant.hash, original.hash, label)
            seen.insert(variant.hash)
        }
        XCTAssertEqual(seen.count, variants.count + 1, "every variant has its own key")
    }

    func testAUserSendingToItselfGetsTwoKeys() {
        var incoming = Components()
        incoming.user = incoming.sender
        var outgoing = incoming
        outgoing.outgoing = true
        XCTAssertNotEqual(incoming.hash, outgoing.hash)
    }

    func testTheKeyOfARecordUsesOnlyTheKeyFields() {
        let components = Components()
        var header = RecordHeader(type: .message, user: UserID(components.user), seq: Seq(7), timestampMs: 1, sender: UserID(components.sender),
                                  device: DeviceID(components.device), clientMessageID: ClientMessageID(components.clientMessageID))
        XCTAssertEqual(IdempotencyKey.hash(header), components.hash)
        header.seq = Seq(8)
        header.timestampMs = 2
        header.flags = FormatConstants.flagCompressed
        header.storedLength = 10
        header.rawLength = 20
        XCTAssertEqual(IdempotencyKey.hash(header), components.hash, "seq, time, lengths and compression are not part of the key")
        header.flags |= FormatConstants.flagOutgoing
        var outgoing = components
        outgoing.outgoing = true
        XCTAssertEqual(IdempotencyKey.hash(header), outgoing.hash)
    }
}
