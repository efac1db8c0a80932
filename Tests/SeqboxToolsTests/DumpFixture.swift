import Foundation
import SeqboxFormat
import SeqboxStore

/// The small, fully deterministic store of the dump golden tests: two segments, six short
/// messages, an ack and a block in the first; a compressed message and an outgoing copy in the
/// second. Fixed clock and timestamps, so every byte (checksums included) is always the same.
enum DumpFixture {
    static func build(in directory: String) throws {
        let store = try MailboxStore.open(directory: directory, options: StoreFixture.options())
        for index in 0 ..< 6 {
            _ = try store.append(NewMessage(user: UserID(1 + UInt64(index % 2)), sender: UserID(9), device: DeviceID(1),
                                            clientMessageID: ClientMessageID(UInt64(index + 1)),
                                            timestampMs: StoreFixture.timestampMs + UInt64(index), payload: Array("hello \(index)".utf8)))
        }
        try store.ack(user: UserID(1), device: DeviceID(1), seq: Seq(2))
        try store.block(user: UserID(2), blocked: UserID(9))
        try store.rollSegment()
        _ = try store.append(NewMessage(user: UserID(1), sender: UserID(9), device: DeviceID(1), clientMessageID: ClientMessageID(7),
                                        timestampMs: StoreFixture.timestampMs + 10,
                                        payload: Array(String(repeating: "again and again ", count: 8).utf8)))
        _ = try store.append(NewMessage(user: UserID(2), sender: UserID(2), device: DeviceID(3), clientMessageID: ClientMessageID(8),
                                        timestampMs: StoreFixture.timestampMs + 11, payload: Array("bye".utf8), outgoing: true))
        try store.close()
    }
}
