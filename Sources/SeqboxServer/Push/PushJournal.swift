#if canImport(Glibc)
import Glibc
#endif
import SeqboxFormat
import SeqboxProtocol
import SeqboxSystem

/// The push state's file, DATA/push/journal: a 16-byte header, then checksummed entries
/// appended in order. Owned by the push module and kept out of the mailbox log on purpose:
/// the log is append-only and retained, so device tokens (personal data) written there could
/// not be erased on unregister, and the outbox is a work queue rewritten all the time.
///
/// Layout (little-endian):
/// ```
/// header = magic "SEQBOXPJ" (8 bytes) | version u32 = 1 | reserved u32 = 0
/// entry  = length u32 | body (length bytes: type u8, payload; PushJournalEntry) | checksum u64
/// checksum = XXH3-64 of the length field and the body, seeded with `checksumSeed`
/// ```
/// Loading stops at the first entry that is short, fails its checksum or does not decode: a
/// write torn by a crash leaves such a tail, which is reported and dropped by rewriting the
/// file. Compaction rewrites the live state into `journal.tmp`, syncs it, renames it over the
/// journal and syncs the directory, so a crash at any point leaves one whole journal.
///
/// Not thread-safe: `PushStateStore` uses it from one queue.
final class PushJournal {
    static let fileName = "journal"
    static let temporaryFileName = "journal.tmp"
    /// Held (flock) while the journal is open: one process per push state.
    static let lockFileName = "LOCK"
    static let magic: [UInt8] = Array("SEQBOXPJ".utf8)
    static let version: UInt32 = 1
    static let headerSize = 16
    /// Seeds entry checksums, so bytes of some other file never verify as entries.
    static let checksumSeed: UInt64 = 0x5042_5850_5553_4831
    /// Largest entry body: a register entry with the largest token.
    static let entryBodyMax = 1 + 8 + 8 + 1 + 1 + 2 + ProtocolConstants.pushTokenSizeMax
    /// Bytes around an entry's body: length u32 and checksum u64.
    static let entryOverhead = 4 + 8

    /// What opening found.
    struct Loaded {
        var entries: [PushJournalEntry]
        /// Bytes after the last valid entry (a torn or corrupt tail), dropped.
        var discardedBytes: Int64
        /// The file was not a push journal and was moved aside to this path.
        var movedAside: String?
    }

    /// Another process holds the push state's lock.
    struct Locked: Error, CustomStringConvertible {
        var path: String
        var description: String { "\(path) is locked by another process" }
    }

    /// A journal written by a newer version: left untouched, the server does not start.
    struct UnsupportedVersion: Error, CustomStringConvertible {
        var path: String
        var version: UInt32
        var description: String { "\(path): push journal version \(version), this build reads \(PushJournal.version)" }
    }

    let directory: String
    private var descriptor: FileDescriptor
    /// The LOCK file, flocked until `close`.
    private var lock: FileDescriptor?
    /// Bytes of the file that hold the header and valid entries: where the next entry goes.
    private(set) var size: Int64

    private init(directory: String, descriptor: FileDescriptor, size: Int64) {
        self.directory = directory
        self.descriptor = descriptor
        self.size = size
    }

    var path: String { directory + "/" + PushJournal.fileName }

    /// Opens (creating the directory and an empty journal if needed) and reads every entry.
    /// When the tail was torn the caller rewrites the journal from the state it rebuilt.
    static func open(directory: String) throws -> (PushJournal, Loaded) {
        try Directory.create(directory)
        let lockPath = directory + "/" + lockFileName
        let lock = try FileDescriptor.open(lockPath, .readWrite, create: true)
        do {
            guard try lock.tryLockExclusive() else { throw Locked(path: lockPath) }
            let (journal, loaded) = try openLocked(directory: directory)
            journal.lock = lock
            return (journal, loaded)
        } catch {
            lock.close()
            throw error
        }
    }

    private static func openLocked(directory: String) throws -> (PushJournal, Loaded) {
        let path = directory + "/" + fileName
        try Directory.remove(directory + "/" + temporaryFileName)
        guard Directory.exists(path) else {
            let journal = try create(directory: directory, entries: [])
            return (journal, Loaded(entries: [], discardedBytes: 0))
        }
        let descriptor = try FileDescriptor.open(path, .readWrite)
        let bytes: [UInt8]
        do {
            let size = Int(try descriptor.size())
            bytes = try [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                count = try descriptor.read(into: UnsafeMutableRawBufferPointer(buffer), atAbsoluteOffset: 0)
            }
        } catch {
            descriptor.close()
            throw error
        }
        guard bytes.count >= headerSize, Array(bytes[0 ..< 8]) == magic else {
            descriptor.close()
            let aside = path + ".unreadable-\(time(nil))"
            try Directory.rename(path, to: aside)
            let journal = try create(directory: directory, entries: [])
            return (journal, Loaded(entries: [], discardedBytes: Int64(bytes.count), movedAside: aside))
        }
        let version = bytes.withUnsafeBytes { $0.loadLE(at: 8, as: UInt32.self) }
        guard version == PushJournal.version else {
            descriptor.close()
            throw UnsupportedVersion(path: path, version: version)
        }
        let (entries, validEnd) = bytes.withUnsafeBytes { readEntries($0) }
        let journal = PushJournal(directory: directory, descriptor: descriptor, size: Int64(validEnd))
        return (journal, Loaded(entries: entries, discardedBytes: Int64(bytes.count - validEnd)))
    }

    /// The valid entries after the header, and where they end.
    static func readEntries(_ file: UnsafeRawBufferPointer) -> ([PushJournalEntry], Int) {
        var entries: [PushJournalEntry] = []
        var offset = headerSize
        while file.count - offset >= entryOverhead + 1 {
            let length = Int(file.loadLE(at: offset, as: UInt32.self))
            guard length >= 1, length <= entryBodyMax, file.count - offset >= entryOverhead + length else { break }
            let covered = UnsafeRawBufferPointer(rebasing: file[offset ..< offset + 4 + length])
            guard Checksum.xxh3(covered, seed: checksumSeed) == file.loadLE(at: offset + 4 + length, as: UInt64.self) else { break }
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: file[offset + 4 ..< offset + 4 + length]))
            guard let entry = PushJournalEntry.decode(&reader) else { break }
            entries.append(entry)
            offset += entryOverhead + length
        }
        return (entries, offset)
    }

    /// The bytes of `entries`, framed.
    static func encode(_ entries: [PushJournalEntry], into writer: inout ByteWriter) {
        for entry in entries {
            var body = ByteWriter(capacity: 32)
            entry.encode(into: &body)
            let start = writer.count
            writer.append(UInt32(body.count))
            writer.append(bytes: body.bytes)
            let checksum = writer.bytes.withUnsafeBytes { Checksum.xxh3(UnsafeRawBufferPointer(rebasing: $0[start...]), seed: checksumSeed) }
            writer.append(checksum)
        }
    }

    /// Appends `entries` after the last one (not synced: call `sync`).
    func append(_ entries: [PushJournalEntry]) throws {
        guard !entries.isEmpty else { return }
        var writer = ByteWriter(capacity: entries.count * 40)
        PushJournal.encode(entries, into: &writer)
        let bytes = writer.bytes
        try bytes.withUnsafeBytes { raw in try descriptor.write(toAbsoluteOffset: size, raw) }
        size += Int64(bytes.count)
    }

    /// fdatasync: every appended entry is durable.
    func sync() throws(SystemError) {
        try descriptor.dataSync()
    }

    /// Replaces the journal with one holding exactly `entries`, durably (compaction).
    func rewrite(_ entries: [PushJournalEntry]) throws {
        let fresh = try PushJournal.create(directory: directory, entries: entries)
        descriptor.close()
        descriptor = fresh.descriptor
        size = fresh.size
    }

    func close() {
        descriptor.close()
        lock?.close()
        lock = nil
    }

    /// Writes `entries` to a temporary file, syncs it, renames it over the journal and syncs
    /// the directory; returns the journal open for appending.
    private static func create(directory: String, entries: [PushJournalEntry]) throws -> PushJournal {
        let temporary = directory + "/" + temporaryFileName
        var writer = ByteWriter(capacity: headerSize + entries.count * 40)
        writer.append(bytes: magic)
        writer.append(version)
        writer.append(UInt32(0))
        encode(entries, into: &writer)
        let bytes = writer.bytes
        let descriptor = try FileDescriptor.open(temporary, .readWrite, create: true)
        do {
            try descriptor.truncate(toSize: 0)
            try bytes.withUnsafeBytes { raw in try descriptor.write(toAbsoluteOffset: 0, raw) }
            try descriptor.dataSync()
            try Directory.rename(temporary, to: directory + "/" + fileName)
            try Directory.sync(directory)
        } catch {
            descriptor.close()
            throw error
        }
        return PushJournal(directory: directory, descriptor: descriptor, size: Int64(bytes.count))
    }
}
