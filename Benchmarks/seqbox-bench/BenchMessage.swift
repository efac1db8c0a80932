import SeqboxFormat
import SeqboxStore

/// A message as both engines receive it.
struct BenchMessage: Sendable {
    var user: UInt64
    var sender: UInt64
    var clientMessageID: UInt64
    var payload: [UInt8]
    /// The fixed device and timestamp of every benchmark message.
    static let device: UInt64 = 1
    static let timestampMs: UInt64 = 1_700_000_000_000

    var seqboxMessage: NewMessage {
        NewMessage(user: UserID(user), sender: UserID(sender), device: DeviceID(Self.device),
                   clientMessageID: ClientMessageID(clientMessageID), timestampMs: Self.timestampMs, payload: payload)
    }
}
