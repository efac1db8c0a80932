import SeqboxFormat

/// Checkpoint files: a snapshot of the in-memory state (mailbox heads and indexes, cursors,
/// blocklists, the idempotency window) as of a log position, so that opening replays only
/// the log after it (FORMAT.md "Checkpoint files"). Derived data: when every checkpoint is
/// missing or fails its checksum, the state is rebuilt from the log.
///
/// Layout (little-endian):
/// header 64 bytes: magic u64 | version u16 | reserved u16 | reserved u32 | position u64 |
///   createdMs u64 | mailboxCount u64 | dedupCount u64 | lastRecordPosition u64 (u64 max: none) |
///   lastRecordChecksum u64 (lets opening check that the log really reaches `position`)
/// per mailbox: user u64 | newestSeq u32 | firstSeq u32 | epoch u32 | positionCount u32 |
///   cursorCount u32 | blockedCount u32 | positions u64×positionCount |
///   cursors (device u64, seq u32, reserved u32)×cursorCount | blocked u64×blockedCount
/// per dedup entry (oldest first): keyHash u64 | user u64 | seq u32 | reserved u32
/// trailer: XXH3-64 of every preceding byte.
public enum CheckpointCodec {
    public static let headerSize = 64
    public static let mailboxFixedSize = 32

    /// One mailbox as stored in a checkpoint; `positions` is valid only during the callback.
    public struct MailboxView {
        public var user: UserID
        public var newestSeq: Seq
        public var firstSeq: Seq
        public var epoch: Epoch
        public var positions: UnsafeRawBufferPointer
        public var cursors: [DeviceCursor]
        public var blocked: [UserID]
        public var positionCount: Int { positions.count / 8 }
    }

    public struct DedupView: Sendable, Equatable {
        public var keyHash: UInt64
        public var user: UserID
        public var seq: Seq
    }

    public struct Header: Sendable, Equatable {
        public var position: LogPosition
        public var createdMs: UInt64
        public var mailboxCount: Int
        public var dedupCount: Int
        public var lastRecordPosition: UInt64
        public var lastRecordChecksum: UInt64
    }

    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case truncated, badMagic, unsupportedVersion(UInt16), badChecksum, inconsistent(String)
        public var description: String {
            switch self {
            case .truncated: "checkpoint truncated"
            case .badMagic: "not a Seqbox checkpoint (bad magic)"
            case .unsupportedVersion(let version): "unsupported checkpoint version \(version)"
            case .badChecksum: "checkpoint checksum mismatch"
            case .inconsistent(let detail): "checkpoint inconsistent: \(detail)"
            }
        }
    }

    static let noRecord = UInt64.max

    static func encode(table: MailboxTable, dedup: DedupWindow, position: LogPosition, createdMs: UInt64,
                       lastRecordPosition: UInt64, lastRecordChecksum: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: headerSize + table.count * (mailboxFixedSize + 16) + table.indexedMessages * 8 + dedup.count * 24 + 8)
        writer.append(FormatConstants.checkpointMagic)
        writer.append(FormatConstants.formatVersion)
        writer.append(UInt16(0))
        writer.append(UInt32(0))
        writer.append(position.rawValue)
        writer.append(createdMs)
        writer.append(UInt64(table.count))
        writer.append(UInt64(dedup.count))
        writer.append(lastRecordPosition)
        writer.append(lastRecordChecksum)
        for slot in 0 ..< table.count {
            let state = table.states[slot]
            let extras = table.extras(ofSlot: slot)
            writer.append(table.users[slot])
            writer.append(state.newestSeq)
            writer.append(state.firstSeq)
            writer.append(state.epoch)
            writer.append(UInt32(state.positions.count))
            writer.append(UInt32(extras?.cursors.count ?? 0))
            writer.append(UInt32(extras?.blocked.count ?? 0))
            if let base = state.positions.base, state.positions.count > 0 {
                // Positions are stored in host order, which is little-endian on every supported target.
                writer.append(bytes: UnsafeRawBufferPointer(start: base, count: Int(state.positions.count) * 8))
            }
            for cursor in extras?.cursors ?? [] {
                writer.append(cursor.device.rawValue)
                writer.append(cursor.seq.rawValue)
                writer.append(UInt32(0))
            }
            for blocked in (extras?.blocked ?? []).sorted() { writer.append(blocked.rawValue) }
        }
        for entry in dedup.entriesOldestFirst() {
            writer.append(entry.keyHash)
            writer.append(entry.user)
            writer.append(entry.seq)
            writer.append(UInt32(0))
        }
        writer.appendChecksumTrailer()
        return writer.bytes
    }

    /// Verifies magic, version and checksum, then streams the contents to the callbacks.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer,
        header onHeader: (Header) throws -> Void = { _ in },
        mailbox onMailbox: (MailboxView) throws -> Void,
        dedup onDedup: (DedupView) throws -> Void
    ) throws {
        let header = try verify(bytes)
        try onHeader(header)
        var reader = ByteReader(bytes, offset: headerSize)
        let bodyEnd = bytes.count - 8
        do {
            for _ in 0 ..< header.mailboxCount {
                let user = UserID(try reader.read(UInt64.self))
                let newest = Seq(try reader.read(UInt32.self))
                let first = Seq(try reader.read(UInt32.self))
                let epoch = Epoch(try reader.read(UInt32.self))
                let positionCount = Int(try reader.read(UInt32.self))
                let cursorCount = Int(try reader.read(UInt32.self))
                let blockedCount = Int(try reader.read(UInt32.self))
                let positions = try reader.readBytes(positionCount * 8)
                var cursors: [DeviceCursor] = []
                for _ in 0 ..< cursorCount {
                    let device = DeviceID(try reader.read(UInt64.self))
                    let seq = Seq(try reader.read(UInt32.self))
                    try reader.skip(4)
                    cursors.append(DeviceCursor(device: device, seq: seq))
                }
                var blocked: [UserID] = []
                for _ in 0 ..< blockedCount { blocked.append(UserID(try reader.read(UInt64.self))) }
                if positionCount > 0 && UInt64(first.rawValue) + UInt64(positionCount) - 1 != UInt64(newest.rawValue) {
                    throw Problem.inconsistent("mailbox \(user): \(positionCount) positions from seq \(first) but newest is \(newest)")
                }
                try onMailbox(MailboxView(user: user, newestSeq: newest, firstSeq: first, epoch: epoch, positions: positions, cursors: cursors, blocked: blocked))
            }
            for _ in 0 ..< header.dedupCount {
                let keyHash = try reader.read(UInt64.self)
                let user = UserID(try reader.read(UInt64.self))
                let seq = Seq(try reader.read(UInt32.self))
                try reader.skip(4)
                try onDedup(DedupView(keyHash: keyHash, user: user, seq: seq))
            }
        } catch is ByteReader.Truncated {
            throw Problem.truncated
        }
        guard reader.offset == bodyEnd else { throw Problem.inconsistent("\(bodyEnd - reader.offset) trailing bytes") }
    }

    /// Checks magic, version and the trailing checksum; returns the header.
    public static func verify(_ bytes: UnsafeRawBufferPointer) throws(Problem) -> Header {
        guard bytes.count >= headerSize + 8 else { throw .truncated }
        guard bytes.loadLE(at: 0, as: UInt64.self) == FormatConstants.checkpointMagic else { throw .badMagic }
        let version = bytes.loadLE(at: 8, as: UInt16.self)
        guard version == FormatConstants.formatVersion else { throw .unsupportedVersion(version) }
        let bodyEnd = bytes.count - 8
        guard Checksum.xxh3(UnsafeRawBufferPointer(rebasing: bytes[0 ..< bodyEnd])) == bytes.loadLE(at: bodyEnd, as: UInt64.self) else {
            throw .badChecksum
        }
        let mailboxCount = bytes.loadLE(at: 32, as: UInt64.self)
        let dedupCount = bytes.loadLE(at: 40, as: UInt64.self)
        guard mailboxCount <= UInt64(bytes.count), dedupCount <= UInt64(bytes.count) else { throw .inconsistent("counts exceed the file size") }
        return Header(position: LogPosition(bytes.loadLE(at: 16, as: UInt64.self)), createdMs: bytes.loadLE(at: 24, as: UInt64.self),
                      mailboxCount: Int(mailboxCount), dedupCount: Int(dedupCount),
                      lastRecordPosition: bytes.loadLE(at: 48, as: UInt64.self), lastRecordChecksum: bytes.loadLE(at: 56, as: UInt64.self))
    }
}
