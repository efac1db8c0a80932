import SeqboxFormat
import SeqboxStore

/// The record a repair keeps in its backup folder: `REPAIR.txt` (what it found and did, and
/// one `lost USER FIRST LAST` line per lost range) and an `INCOMPLETE` marker removed when
/// the repair finishes. Lost seqs known only from a checkpoint disappear with that checkpoint,
/// so a repair interrupted after deleting it would forget them; the next run reads them back
/// from here and still records them with an epoch change.
enum RepairJournal {
    static let backupPrefix = "fsck-backup-"
    static let journalName = "REPAIR.txt"
    static let incompleteMarker = "INCOMPLETE"

    /// Backup folders of `directory` still marked incomplete.
    static func incompleteBackups(in directory: String, fileSystem: any FileSystem) -> [String] {
        guard let names = try? fileSystem.list(directory) else { return [] }
        return names.filter { $0.hasPrefix(backupPrefix) }.sorted().filter {
            fileSystem.exists(directory + "/" + $0 + "/" + incompleteMarker)
        }
    }

    /// The lost ranges recorded in `folder`'s journal.
    static func lostRanges(inBackup folder: String, fileSystem: any FileSystem) -> LostRanges {
        var lost = LostRanges()
        guard let file = try? fileSystem.openReadOnly(folder + "/" + journalName), let bytes = try? file.readAll() else { return lost }
        file.close()
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 4, fields[0] == "lost", let user = UInt64(fields[1]), let first = UInt32(fields[2]),
                  let last = UInt32(fields[3]), first >= 1, first <= last else { continue }
            lost.add(UserID(user), first ... last)
        }
        return lost
    }

    /// Adds an `incomplete-repair` problem for each interrupted repair, with the lost ranges it
    /// recorded that no epoch change acknowledges yet.
    static func noteIncomplete(in directory: String, fileSystem: any FileSystem, result: inout Verification) {
        for folder in incompleteBackups(in: directory, fileSystem: fileSystem) {
            var pending = lostRanges(inBackup: directory + "/" + folder, fileSystem: fileSystem)
            result.problems.add(Problem(.incompleteRepair, file: nil,
                                        "\(folder): a repair stopped before it finished; run --repair again (\(pending.seqCount) lost seqs recorded)"))
            pending.subtract(result.acknowledgedLost)
            result.pendingFromIncompleteRepairs.add(pending)
        }
        result.lost.add(result.pendingFromIncompleteRepairs)
    }
}
