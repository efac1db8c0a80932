import SeqboxFormat
import SeqboxStore

/// A checkpoint file that verifies (magic, version, checksum, structure, name): its bytes and
/// header, held so fsck can compare it with the log once the scan reaches its position.
struct CheckpointImage: Sendable {
    let position: LogPosition
    let name: String
    let bytes: [UInt8]
    let header: CheckpointCodec.Header

    /// Marks a checkpoint without a last record.
    static let noRecord = UInt64.max

    /// Reads and checks the checkpoint at `position`; the error says why it is unusable.
    static func load(_ files: StoreFiles, position: LogPosition, fileSystem: any FileSystem) -> Result<CheckpointImage, LoadError> {
        let name = FileNames.checkpoint(position)
        let bytes: [UInt8]
        do {
            let file = try fileSystem.openReadOnly(files.path(name))
            defer { file.close() }
            bytes = try file.readAll()
        } catch {
            return .failure(LoadError(detail: "unreadable: \(error)"))
        }
        do {
            // The structure is decoded once, when the scan reaches the checkpoint's position.
            let header = try bytes.withUnsafeBytes { raw throws(CheckpointCodec.Problem) in try CheckpointCodec.verify(raw) }
            guard header.position == position else {
                return .failure(LoadError(detail: "its position \(header.position) differs from its name"))
            }
            return .success(CheckpointImage(position: position, name: name, bytes: bytes, header: header))
        } catch {
            return .failure(LoadError(detail: "\(error)"))
        }
    }

    struct LoadError: Error { let detail: String }
}
