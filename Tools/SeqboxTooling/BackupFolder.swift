#if canImport(Glibc)
import Glibc
#endif
import SeqboxFormat
import SeqboxStore
import SeqboxSystem

/// The folder inside the store directory where a repair copies every file before changing
/// or deleting it: `fsck-backup-<UTC time>/log/<name>`, plus the repair journal. Everything
/// is synced before the first change, so the original bytes survive a crash mid-repair.
struct BackupFolder {
    let path: String
    let fileSystem: any FileSystem

    /// Creates a new, uniquely named folder in `directory`.
    static func create(in directory: String, fileSystem: any FileSystem) throws(SystemError) -> BackupFolder {
        let stamp = utcStamp()
        var name = RepairJournal.backupPrefix + stamp
        var attempt = 1
        while fileSystem.exists(directory + "/" + name) {
            attempt += 1
            name = RepairJournal.backupPrefix + stamp + "-\(attempt)"
        }
        let path = directory + "/" + name
        try fileSystem.createDirectory(path + "/" + FormatConstants.segmentDirectoryName)
        try fileSystem.syncDirectory(path)
        try fileSystem.syncDirectory(directory)
        return BackupFolder(path: path, fileSystem: fileSystem)
    }

    var name: String { String(path.split(separator: "/").last ?? "") }
    var logPath: String { path + "/" + FormatConstants.segmentDirectoryName }

    /// Copies `source` to `log/<name>` in the backup and syncs it.
    func copy(_ source: String, as name: String) throws(SystemError) {
        let input = try fileSystem.openReadOnly(source)
        defer { input.close() }
        let output = try fileSystem.open(logPath + "/" + name, create: true)
        defer { output.close() }
        try output.truncate(to: 0)
        let chunkBytes = 8 << 20
        var buffer = [UInt8](repeating: 0, count: chunkBytes)
        var offset: Int64 = 0
        while true {
            let read: Result<Int, SystemError> = buffer.withUnsafeMutableBytes { raw in
                do throws(SystemError) { return .success(try input.read(into: raw, at: offset)) } catch { return .failure(error) }
            }
            let count = try read.get()
            if count == 0 { break }
            try output.write(Array(buffer[0 ..< count]), at: offset)
            offset += Int64(count)
            if count < chunkBytes { break }
        }
        try output.sync()
    }

    /// Writes a small text file in the folder (durably).
    func writeText(_ text: String, to name: String) throws(SystemError) {
        try fileSystem.writeAtomically(Array(text.utf8), to: path + "/" + name, directory: path)
    }

    func remove(_ name: String) throws(SystemError) {
        try fileSystem.remove(path + "/" + name)
        try fileSystem.syncDirectory(path)
    }

    func syncAll() throws(SystemError) {
        try fileSystem.syncDirectory(logPath)
        try fileSystem.syncDirectory(path)
    }

    /// The current UTC time as `YYYYMMDDTHHMMSSZ`.
    static func utcStamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }
}
