import SeqboxFormat
import SeqboxStore
import SeqboxSystem

/// A sealed segment's index file, mapped and verified (checksum, size), read entry by entry
/// while the segment is walked: a large index is never copied into an array.
struct IndexView {
    let mapping: MappedRegion
    let summary: IndexFile.Summary

    var count: Int { summary.entryCount }

    /// Entry `number`, nil when it does not decode.
    func entry(_ number: Int) -> IndexEntry? { try? IndexFile.entry(number, in: mapping.bytes) }

    struct OpenError: Error { let detail: String }

    static func open(_ path: String, fileSystem: any FileSystem) -> Result<IndexView, OpenError> {
        do {
            let file = try fileSystem.openReadOnly(path)
            defer { file.close() }
            let size = Int(try file.size())
            guard size > 0 else { return .failure(OpenError(detail: "empty file")) }
            let mapping = try file.map(length: size)
            do {
                return .success(IndexView(mapping: mapping, summary: try IndexFile.summarize(mapping.bytes)))
            } catch {
                return .failure(OpenError(detail: error.description))
            }
        } catch {
            return .failure(OpenError(detail: "unreadable: \(error)"))
        }
    }
}
