import SeqboxFormat
import SeqboxProtocol

/// One change to the durable push state, as the journal (DATA/push/journal) records it.
///
/// Every entry is idempotent and applied the same way when written and when replayed
/// (`PushDurableState.apply`), so replaying the journal rebuilds exactly the state it recorded.
enum PushJournalEntry: Hashable, Sendable {
    /// `user`'s `device` registered (or replaced) its token.
    case register(UserID, PushDevice)
    /// `user`'s `device` removed its token.
    case unregister(UserID, DeviceID)
    /// The outbox holds a tip for `tip.user` (up to `tip.newestSeq`); no preview is kept.
    case tipEnqueued(PushTip)
    /// The tips of `user` up to `seq` are done: delivered, dropped or cancelled.
    case tipDone(UserID, Seq)

    /// Entry type bytes: part of the on-disk format, never renumbered.
    enum Kind: UInt8 {
        case register = 1
        case unregister = 2
        case tipEnqueued = 3
        case tipDone = 4
    }

    /// Appends the entry's type byte and payload (little-endian):
    /// - register: user u64, device u64, platform u8, reserved u8, token length u16, token;
    /// - unregister: user u64, device u64;
    /// - tipEnqueued: user u64, seq u32, epoch u32, sender u64;
    /// - tipDone: user u64, seq u32.
    func encode(into writer: inout ByteWriter) {
        switch self {
        case .register(let user, let device):
            writer.append(Kind.register.rawValue)
            writer.append(user.rawValue)
            writer.append(device.device.rawValue)
            writer.append(device.platform.rawValue)
            writer.append(UInt8(0))
            writer.append(UInt16(device.token.count))
            writer.append(bytes: device.token)
        case .unregister(let user, let device):
            writer.append(Kind.unregister.rawValue)
            writer.append(user.rawValue)
            writer.append(device.rawValue)
        case .tipEnqueued(let tip):
            writer.append(Kind.tipEnqueued.rawValue)
            writer.append(tip.user.rawValue)
            writer.append(tip.newestSeq.rawValue)
            writer.append(tip.epoch)
            writer.append(tip.sender.rawValue)
        case .tipDone(let user, let seq):
            writer.append(Kind.tipDone.rawValue)
            writer.append(user.rawValue)
            writer.append(seq.rawValue)
        }
    }

    /// Decodes one entry's type byte and payload, which must fill `reader` exactly; nil for
    /// anything malformed (unknown type, bad platform, bad token length, trailing bytes).
    static func decode(_ reader: inout ByteReader) -> PushJournalEntry? {
        do throws(ByteReader.Truncated) {
            guard let kind = Kind(rawValue: try reader.read(UInt8.self)) else { return nil }
            let user = UserID(try reader.read(UInt64.self))
            let entry: PushJournalEntry
            switch kind {
            case .register:
                let device = DeviceID(try reader.read(UInt64.self))
                guard let platform = PushPlatform(rawValue: try reader.read(UInt8.self)),
                      try reader.read(UInt8.self) == 0 else { return nil }
                let length = Int(try reader.read(UInt16.self))
                guard length > 0, length <= ProtocolConstants.pushTokenSizeMax else { return nil }
                let token = Array(try reader.readBytes(length))
                entry = .register(user, PushDevice(device: device, platform: platform, token: token))
            case .unregister:
                entry = .unregister(user, DeviceID(try reader.read(UInt64.self)))
            case .tipEnqueued:
                let seq = Seq(try reader.read(UInt32.self))
                let epoch = try reader.read(UInt32.self)
                let sender = UserID(try reader.read(UInt64.self))
                entry = .tipEnqueued(PushTip(user: user, newestSeq: seq, epoch: epoch, sender: sender))
            case .tipDone:
                entry = .tipDone(user, Seq(try reader.read(UInt32.self)))
            }
            return reader.remaining == 0 ? entry : nil
        } catch {
            return nil
        }
    }
}
