import SeqboxFormat
import SeqboxStore
import SeqboxSystem

/// Repairs a store from a verification (`seqbox-fsck --repair`):
/// 1. back up every file it will change or delete, with a journal, all synced;
/// 2. zero torn tails and stray bytes, cover damaged records with padding, rewrite damaged
///    segment headers, fill missing log ranges with filler segments, delete derived files that
///    are invalid or cover repaired bytes; sync every file and the directory;
/// 3. release the lock and open the store with `.openWithLoss` (it rebuilds index files),
///    record every lost range with an epoch change (DESIGN.md invariant 3), close (a fresh
///    checkpoint); 4. mark the journal complete. The caller verifies again.
struct StoreRepair {
    let verification: Verification
    let plan: RepairPlan
    let fileSystem: any FileSystem
    let clock: @Sendable () -> UInt64

    func run(releasingLock lock: (any FileLock)?) -> RepairOutcome {
        let earlierIncompleteBackups = RepairJournal.incompleteBackups(in: verification.files.directory, fileSystem: fileSystem)
        var outcome = RepairOutcome(actions: plan.actions + plan.warnings.map { "warning: " + $0 })
        if !plan.unrepairable.isEmpty {
            lock?.unlock()
            outcome.actions = []
            outcome.failure = "cannot repair automatically, nothing was changed: " + plan.unrepairable.joined(separator: "; ")
            return outcome
        }
        let files = verification.files
        var backup: BackupFolder?
        do throws(SystemError) {
            if !plan.changesNoFile || !plan.lost.isEmpty {
                let folder = try BackupFolder.create(in: files.directory, fileSystem: fileSystem)
                backup = folder
                outcome.backupFolder = folder.path
                try writeJournal(folder)
                for name in plan.filesToBackUp where fileSystem.exists(files.path(name)) {
                    try folder.copy(files.path(name), as: name)
                }
                try folder.syncAll()
            }
            try applySegmentEdits(files)
            for name in plan.deletions { try fileSystem.remove(files.path(name)) }
            for gap in plan.fillers { try writeFiller(gap, files: files) }
            try fileSystem.syncDirectory(files.logDirectory)
        } catch {
            lock?.unlock()
            outcome.failure = "I/O error: \(error)" + (backup.map { "; the original files are in \($0.path)" } ?? "")
            return outcome
        }
        lock?.unlock()
        do throws(StoreError) {
            outcome.epochChanges = try recordLosses()
        } catch {
            outcome.failure = "opening the repaired store failed: \(error)"
            return outcome
        }
        // This repair recorded every loss, its own and those of earlier interrupted repairs.
        let finished = (backup.map { [$0.path] } ?? []) +
            earlierIncompleteBackups.map { verification.files.directory + "/" + $0 }
        for folder in finished {
            do throws(SystemError) {
                try BackupFolder(path: folder, fileSystem: fileSystem).remove(RepairJournal.incompleteMarker)
            } catch {
                outcome.failure = "could not mark the repair complete in \(folder): \(error)"
            }
        }
        return outcome
    }

    private func writeJournal(_ folder: BackupFolder) throws(SystemError) {
        var text = "seqbox-fsck --repair of \(verification.files.directory), started \(BackupFolder.utcStamp())\n"
        text += "Original copies of the changed and deleted files are in log/.\n\nproblems:\n"
        for problem in verification.problems.listed { text += "  \(problem)\n" }
        text += "\nactions:\n"
        for action in plan.actions { text += "  \(action)\n" }
        text += "\n"
        for range in plan.lost.all { text += "lost \(range.user) \(range.first) \(range.last)\n" }
        try folder.writeText(text, to: RepairJournal.journalName)
        try folder.writeText("the repair that made this folder has not finished\n", to: RepairJournal.incompleteMarker)
    }

    private func applySegmentEdits(_ files: StoreFiles) throws(SystemError) {
        for segment in plan.segmentEdits {
            let file = try fileSystem.open(files.path(segment.name), create: false)
            defer { file.close() }
            for edit in segment.edits {
                switch edit {
                case .rewriteHeader:
                    let header = SegmentHeader(basePosition: segment.base, createdMs: segment.createdMs, capacity: UInt64(segment.size))
                    try file.write(header.encode(), at: 0)
                case .pad(let region):
                    try file.write(PaddingRecords.bytes(covering: region.length, segmentBase: segment.base), at: Int64(region.start))
                case .zero(let region):
                    try zero(file, region)
                }
            }
            try file.sync()
        }
    }

    private func zero(_ file: any StorageFile, _ region: BadRegion) throws(SystemError) {
        let chunkBytes = 1 << 20
        let zeros = [UInt8](repeating: 0, count: min(region.length, chunkBytes))
        var offset = region.start
        while offset < region.end {
            let count = min(chunkBytes, region.end - offset)
            try file.write(count == zeros.count ? zeros : Array(zeros[0 ..< count]), at: Int64(offset))
            offset += count
        }
    }

    private func writeFiller(_ gap: LogGap, files: StoreFiles) throws(SystemError) {
        let base = LogPosition(gap.start)
        let bytes = PaddingRecords.fillerSegment(base: base, length: gap.length, createdMs: clock())
        try fileSystem.writeAtomically(bytes, to: files.segmentPath(base), directory: files.logDirectory)
    }

    /// Opens the repaired store and writes one epoch change per lost range (one new epoch
    /// per mailbox), then closes it.
    private func recordLosses() throws(StoreError) -> [(user: UserID, epoch: Epoch, range: RecoveryReport.LostRange)] {
        var options = StoreOptions()
        options.fileSystem = fileSystem
        options.corruptionPolicy = .openWithLoss
        options.clock = clock
        let store = try MailboxStore.open(directory: verification.files.directory, options: options)
        var lost = plan.lost
        for range in store.recoveryReport.lostRanges { lost.add(range.user, range.first.rawValue ... range.last.rawValue) }
        var changes: [(user: UserID, epoch: Epoch, range: RecoveryReport.LostRange)] = []
        do throws(StoreError) {
            for user in lost.users {
                let epoch = Epoch(store.mailboxInfo(user: user).epoch.rawValue &+ 1)
                for range in lost.ranges(of: user) {
                    try store.changeEpoch(user: user, epoch: epoch, lostFirst: Seq(range.lowerBound), lostLast: Seq(range.upperBound))
                    changes.append((user, epoch, RecoveryReport.LostRange(user: user, first: Seq(range.lowerBound), last: Seq(range.upperBound))))
                }
            }
        } catch {
            try? store.close()
            throw error
        }
        try store.close()
        return changes
    }
}
