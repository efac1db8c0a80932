import SeqboxFormat
import SeqboxStore
import SeqboxSystem

/// The files of a store directory, classified by name (FORMAT.md "Directory layout"):
/// segments, index files, checkpoints, leftover temporary files, and anything else.
struct StoreFiles {
    let directory: String
    let logDirectory: String
    /// Segment bases, ascending.
    var segments: [LogPosition] = []
    var indexes: Set<LogPosition> = []
    /// Checkpoint positions, ascending.
    var checkpoints: [LogPosition] = []
    /// `*.tmp` files: an atomic write interrupted by a crash (the store deletes them at open).
    var temporaries: [String] = []
    /// Names the store does not know (left alone, listed as notes).
    var unknown: [String] = []

    /// Lists `directory`'s log. Throws `UnusableInput` when the directory is missing, is not a
    /// store, or cannot be read.
    static func load(directory: String, fileSystem: any FileSystem) throws(UnusableInput) -> StoreFiles {
        guard fileSystem.exists(directory) else { throw UnusableInput("\(directory): no such directory") }
        guard fileSystem.isDirectory(directory) else { throw UnusableInput("\(directory): not a directory") }
        let logDirectory = directory + "/" + FormatConstants.segmentDirectoryName
        guard fileSystem.isDirectory(logDirectory) else {
            throw UnusableInput("\(directory): not a Seqbox store (no '\(FormatConstants.segmentDirectoryName)' directory)")
        }
        let names: [String]
        do { names = try fileSystem.list(logDirectory) } catch {
            throw UnusableInput("\(logDirectory): cannot read the directory: \(error)")
        }
        var files = StoreFiles(directory: directory, logDirectory: logDirectory)
        for name in names.sorted() {
            if let base = FileNames.segmentBase(name) {
                files.segments.append(base)
            } else if let base = FileNames.indexBase(name) {
                files.indexes.insert(base)
            } else if let position = FileNames.checkpointPosition(name) {
                files.checkpoints.append(position)
            } else if name.hasSuffix(".tmp") {
                files.temporaries.append(name)
            } else {
                files.unknown.append(name)
            }
        }
        files.segments.sort()
        files.checkpoints.sort()
        return files
    }

    func path(_ name: String) -> String { logDirectory + "/" + name }
    func segmentPath(_ base: LogPosition) -> String { path(FileNames.segment(base)) }
    func indexPath(_ base: LogPosition) -> String { path(FileNames.index(base)) }
}
