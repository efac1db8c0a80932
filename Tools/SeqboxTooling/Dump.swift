import SeqboxFormat
import SeqboxStore

/// `seqbox-dump DIR`: inspects a store directory, read-only. All logic lives here so tests run
/// it in-process; the executable only calls `run`.
public enum Dump {
    static let flags: [FlagSpec] = [
        FlagSpec("segments", help: "list the segments (the default)"),
        FlagSpec("records", help: "list the records (implied by the filters below and by --hex)"),
        FlagSpec("stats", help: "per-user message counts, top users by messages and bytes,\ncompression ratio, cursors per device"),
        FlagSpec("user", value: "USER", help: "only records of this mailbox owner"),
        FlagSpec("from-seq", value: "SEQ", help: "only records whose seq field is at least SEQ"),
        FlagSpec("to-seq", value: "SEQ", help: "only records whose seq field is at most SEQ"),
        FlagSpec("segment", value: "BASE", help: "only this segment (its base position or file name)"),
        FlagSpec("type", value: "TYPE", help: "only records of this type: message, ack, block, unblock, epoch, padding"),
        FlagSpec("limit", value: "N", help: "print at most N records (--records) or N users (--stats, default 100; 0: all)"),
        FlagSpec("top", value: "N", help: "users in each top list of --stats (default 10)"),
        FlagSpec("json", help: "JSON lines (one object a segment or record), or one object for --stats"),
        FlagSpec("hex", help: "each record's raw bytes as a hex dump"),
        FlagSpec("help", help: "show this help"),
    ]

    static let help = ArgumentParser.help(
        usage: "seqbox-dump [--segments | --records | --stats] [filters] [--json | --hex] DIR",
        description: """
        Shows what is inside the Seqbox store in DIR: its segments, its records, or statistics.
        Read-only: it never writes and never takes the store's lock, and it uses the store's own
        scanner and decoders.
        """,
        flags: flags,
        footer: """
        A store a server has open:
          dump reads it without the lock, consistently up to the last complete record of the
          active segment at the moment it reads that segment. Records appended after that are
          not shown; a record being written shows as an incomplete tail ("torn-tail"). Segments
          removed by retention while dump runs are skipped with a note on stderr.

        Record flags in the table: c compressed, o the sender's outgoing copy, b the first record
        of a group-commit batch (sync mode). Record fields: the seq of an ack is the acknowledged seq; a block's sender is the
        blocked user; an epoch record's seq is the newest seq at the change, and it names the
        new epoch and the lost range.

        exit status:
          0  the output was produced (damage found in the store is shown, not an error)
          2  bad arguments, a missing or unreadable directory, a file that is not a Seqbox
             segment, or an unknown format version
        """)

    /// Runs dump with `arguments` (without the program name); returns the exit status.
    public static func run(arguments: [String], output: ToolOutput, fileSystem: any FileSystem = PosixFileSystem()) -> Int32 {
        defer { output.flush() }
        do throws(UnusableInput) {
            let parsed = try ArgumentParser.parse(arguments, flags: flags)
            if parsed.has("help") {
                output.write(help)
                return ToolExit.clean
            }
            let directory = try parsed.storeDirectory()
            let filter = try RecordFilter(parsed)
            let modes = ["segments", "records", "stats"].filter { parsed.has($0) }
            guard modes.count <= 1 else { throw UnusableInput("choose one of --segments, --records, --stats") }
            guard !(parsed.has("json") && parsed.has("hex")) else { throw UnusableInput("choose one of --json, --hex") }
            let mode = modes.first ?? (filter.isActive || parsed.has("hex") || parsed.has("limit") ? "records" : "segments")
            if mode != "records" && (filter.isActive || parsed.has("hex")) {
                throw UnusableInput("record filters and --hex apply to --records only")
            }
            let source = try DumpSource.open(directory: directory, fileSystem: fileSystem)
            for name in source.vanished { output.writeError("seqbox-dump: note: \(name) was removed while dumping (retention); skipped\n") }
            switch mode {
            case "stats":
                let limit = Int(try parsed.unsigned("limit", in: 0 ... UInt64(Int.max)) ?? 100)
                let top = Int(try parsed.unsigned("top", in: 0 ... UInt64(Int.max)) ?? 10)
                DumpStats(source: source, fileSystem: fileSystem, json: parsed.has("json"), limit: limit, top: top).print(to: output)
            case "records":
                let limit = try parsed.unsigned("limit", in: 0 ... UInt64(Int.max)).map { Int($0) }
                let style: RecordListing.Style = parsed.has("json") ? .json : parsed.has("hex") ? .hex : .table
                try RecordListing(source: source, filter: filter, style: style, limit: limit).print(to: output)
            default:
                guard !parsed.has("top") else { throw UnusableInput("--top applies to --stats only") }
                SegmentListing(source: source, json: parsed.has("json")).print(to: output)
            }
            return ToolExit.clean
        } catch {
            output.writeError("seqbox-dump: \(error.message)\n")
            return ToolExit.unusable
        }
    }
}
