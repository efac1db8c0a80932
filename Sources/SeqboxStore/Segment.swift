import SeqboxFormat
import SeqboxSystem

/// One segment file: its header, its mapping, and how far it holds valid records.
///
/// Thread safety: `length`, `sealed`, `newestTimestampMs` and `recordCount` change only on the
/// writer thread, under the store's state lock; readers read them under that lock. The mapped
/// bytes below a published position never change.
final class Segment: @unchecked Sendable {
    let base: LogPosition
    let path: String
    let file: any StorageFile
    let mapping: MappedRegion
    let capacity: Int
    /// End of the valid records (offset from the start of the file).
    var length: Int
    var sealed: Bool
    var newestTimestampMs: UInt64 = 0
    var recordCount = 0

    init(base: LogPosition, path: String, file: any StorageFile, mapping: MappedRegion, capacity: Int, length: Int, sealed: Bool) {
        self.base = base
        self.path = path
        self.file = file
        self.mapping = mapping
        self.capacity = capacity
        self.length = length
        self.sealed = sealed
    }

    deinit { file.close() }

    var bytes: UnsafeRawBufferPointer { mapping.bytes }
    var endPosition: LogPosition { LogPosition(base.rawValue + UInt64(length)) }
    var freeBytes: Int { capacity - length }

    /// True if `position` lies in this segment's published records.
    @inline(__always)
    func contains(_ position: UInt64) -> Bool {
        position >= base.rawValue && position < base.rawValue + UInt64(length)
    }

    /// Creates, preallocates and durably names a new segment file.
    static func create(directory: String, base: LogPosition, capacity: Int, createdMs: UInt64, fileSystem: any FileSystem) throws(StoreError) -> Segment {
        let path = directory + "/" + FileNames.segment(base)
        do throws(SystemError) {
            let file = try fileSystem.open(path, create: true)
            do throws(SystemError) {
                try file.truncate(to: 0)
                try file.allocate(to: Int64(capacity))
                let header = SegmentHeader(basePosition: base, createdMs: createdMs, capacity: UInt64(capacity))
                try file.write(header.encode(), at: 0)
                try file.sync()
                try fileSystem.syncDirectory(directory)
                let mapping = try file.map(length: capacity)
                return Segment(base: base, path: path, file: file, mapping: mapping, capacity: capacity,
                               length: FormatConstants.segmentHeaderSize, sealed: false)
            } catch {
                file.close()
                try? fileSystem.remove(path)
                throw error
            }
        } catch {
            throw StoreError.from(error)
        }
    }

    /// Opens a segment whose header failed to verify, trusting the base in its file name: its
    /// records carry their own checksums (seeded with that base), so they can still be read.
    static func openUnverified(path: String, base: LogPosition, fileSystem: any FileSystem) throws(StoreError) -> Segment {
        do throws(SystemError) {
            let file = try fileSystem.open(path, create: false)
            let size = Int(try file.size())
            guard size >= FormatConstants.segmentHeaderSize else {
                file.close()
                throw SystemError(call: "open", path: path, errno: .io)
            }
            let mapping = try file.map(length: size)
            return Segment(base: base, path: path, file: file, mapping: mapping, capacity: size,
                           length: FormatConstants.segmentHeaderSize, sealed: true)
        } catch {
            throw StoreError.from(error)
        }
    }

    /// Opens an existing segment and checks its header against its name.
    static func open(path: String, base: LogPosition, fileSystem: any FileSystem, readOnly: Bool = false) throws(StoreError) -> Segment {
        let file: any StorageFile
        do {
            file = readOnly ? try fileSystem.openReadOnly(path) : try fileSystem.open(path, create: false)
        } catch {
            throw StoreError.from(error)
        }
        do {
            let size = Int(try file.size())
            guard size >= FormatConstants.segmentHeaderSize else {
                throw StoreError.corruptFile(path: path, reason: "shorter than a segment header (\(size) bytes)")
            }
            let mapping = try file.map(length: size)
            let header: SegmentHeader
            do {
                header = try SegmentHeader.decode(mapping.bytes)
            } catch let problem {
                if case .unsupportedVersion(let version) = problem { throw StoreError.unsupportedVersion(path: path, version: version) }
                throw StoreError.corruptFile(path: path, reason: problem.description)
            }
            guard header.basePosition == base else {
                throw StoreError.corruptFile(path: path, reason: "header base \(header.basePosition) does not match the file name")
            }
            return Segment(base: base, path: path, file: file, mapping: mapping, capacity: size,
                           length: FormatConstants.segmentHeaderSize, sealed: true)
        } catch let error as StoreError {
            file.close()
            throw error
        } catch let error as SystemError {
            file.close()
            throw StoreError.from(error)
        } catch {
            file.close()
            throw StoreError.invalidArgument("\(error)")
        }
    }
}
