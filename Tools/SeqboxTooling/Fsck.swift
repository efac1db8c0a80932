import SeqboxFormat
import SeqboxStore

/// `seqbox-fsck DIR`: verifies a store directory offline and, with `--repair`, repairs it.
/// All logic lives here so tests run it in-process; the executable only calls `run`.
public enum Fsck {
    static let flags: [FlagSpec] = [
        FlagSpec("repair", help: "repair the store (backs up every file it changes first; see below)"),
        FlagSpec("json", help: "print the report as one JSON object"),
        FlagSpec("progress", help: "show progress on stderr even when it is not a terminal"),
        FlagSpec("help", help: "show this help"),
    ]

    static let help = ArgumentParser.help(
        usage: "seqbox-fsck [--repair] [--json] [--progress] DIR",
        description: """
        Verifies the Seqbox store in DIR without a server: every segment header and record
        checksum, the segment chain, per-mailbox seq contiguity across segments, index files and
        checkpoints against the log, device cursors and the dedup window. Prints a summary
        (segments, records, users, bytes, compression ratio, problems by kind, lost ranges per
        user). Uses the store's own scanner and decoders.
        """,
        flags: flags,
        footer: """
        --repair:
          Copies every file it will change or delete into DIR/fsck-backup-<UTC time>/ (with a
          journal, REPAIR.txt), then zeroes torn tails, covers damaged records with padding
          records, rewrites damaged segment headers, fills missing segments, deletes index files
          and checkpoints that are invalid or cover repaired bytes, records every lost range with
          an epoch change of its mailbox (clients holding the old epoch are told), lets the store
          rebuild its index files and checkpoint, syncs everything, and verifies again.

        The store's lock (DIR/LOCK) is taken for the whole run: fsck refuses (exit 2) while a
        server has the store open. seqbox-dump reads a live store.

        exit status:
          0  the store is clean (with --repair: clean after the repair)
          1  problems found (with --repair: problems remain, or the repair stopped)
          2  bad arguments, a missing or unreadable directory, a file that is not a Seqbox
             segment, an unknown format version, or the store is in use by a server
        """)

    /// Runs fsck with `arguments` (without the program name); returns the exit status.
    public static func run(arguments: [String], output: ToolOutput, fileSystem: any FileSystem = PosixFileSystem(),
                           clock: @escaping @Sendable () -> UInt64 = { wallClockMilliseconds() }) -> Int32 {
        defer { output.flush() }
        do throws(UnusableInput) {
            let parsed = try ArgumentParser.parse(arguments, flags: flags)
            if parsed.has("help") {
                output.write(help)
                return ToolExit.clean
            }
            let run = FsckRun(directory: try parsed.storeDirectory(), repair: parsed.has("repair"), json: parsed.has("json"),
                              progress: parsed.has("progress") || output.errorIsTerminal, output: output, fileSystem: fileSystem, clock: clock)
            return try run.execute()
        } catch {
            output.writeError("seqbox-fsck: \(error.message)\n")
            return ToolExit.unusable
        }
    }
}

/// One fsck invocation.
struct FsckRun {
    let directory: String
    let repair: Bool
    let json: Bool
    let progress: Bool
    let output: ToolOutput
    let fileSystem: any FileSystem
    let clock: @Sendable () -> UInt64

    func execute() throws(UnusableInput) -> Int32 {
        _ = try StoreFiles.load(directory: directory, fileSystem: fileSystem)
        var lock = try takeLock()
        let verification: Verification
        do {
            verification = try verify(label: "verifying")
        } catch {
            lock?.unlock()
            throw error
        }
        let plan = RepairPlan(verification)
        guard repair, !verification.isClean || !plan.changesNoFile else {
            lock?.unlock()
            print(verification, repair: nil)
            return verification.isClean ? ToolExit.clean : ToolExit.problems
        }
        var outcome = StoreRepair(verification: verification, plan: plan, fileSystem: fileSystem, clock: clock).run(releasingLock: lock)
        if outcome.failure == nil {
            lock = try takeLock()
            defer { lock?.unlock() }
            outcome.after = try verify(label: "verifying the repaired store")
        }
        print(verification, repair: outcome)
        return outcome.succeeded ? ToolExit.clean : ToolExit.problems
    }

    private func verify(label: String) throws(UnusableInput) -> Verification {
        try StoreVerifier(directory: directory, fileSystem: fileSystem) { total in
            ProgressMeter(output: output, enabled: progress, label: label, totalBytes: total)
        }.run()
    }

    /// Takes the store's lock. A held lock means a server has the store open: refuse. A lock
    /// that cannot be taken at all (a read-only file system) is fine for verifying only.
    private func takeLock() throws(UnusableInput) -> (any FileLock)? {
        let path = directory + "/" + FormatConstants.lockFileName
        do {
            guard let lock = try fileSystem.lock(path) else {
                throw UnusableInput("\(directory) is in use by a running server (\(path) is locked); stop the server first " +
                    "(seqbox-dump can read a live store)")
            }
            return lock
        } catch let error as UnusableInput {
            throw error
        } catch {
            if repair { throw UnusableInput("cannot take the store's lock \(path): \(error)") }
            output.writeError("seqbox-fsck: note: cannot take the store's lock (\(error)); verifying without it\n")
            return nil
        }
    }

    private func print(_ verification: Verification, repair outcome: RepairOutcome?) {
        output.write(json ? verification.jsonReport(repair: outcome) : verification.textReport(repair: outcome))
    }
}
