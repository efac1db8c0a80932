import SeqboxSystem

/// The storage seam: every byte the store reads or writes goes through a `FileSystem`, so tests
/// can run the store on `SimulatedFileSystem`, which drops unsynced writes at a crash.
///
/// Durability contract (what the store relies on, and what the simulation enforces):
/// - `StorageFile.write` lands in a volatile cache; only `sync()` makes a file's bytes durable.
/// - Creating, renaming and removing names is durable only after `syncDirectory` of the parent.
public protocol FileSystem: Sendable {
    func createDirectory(_ path: String) throws(SystemError)
    func list(_ path: String) throws(SystemError) -> [String]
    func exists(_ path: String) -> Bool
    func isDirectory(_ path: String) -> Bool
    /// Opens a file for reading and writing; creates it (empty) when `create` is true.
    func open(_ path: String, create: Bool) throws(SystemError) -> any StorageFile
    /// Opens a file read-only (offline tools on a store a server may hold).
    func openReadOnly(_ path: String) throws(SystemError) -> any StorageFile
    func remove(_ path: String) throws(SystemError)
    func rename(_ source: String, to target: String) throws(SystemError)
    func syncDirectory(_ path: String) throws(SystemError)
    /// Takes the exclusive lock on `path` (created if missing); nil when another holder has it.
    func lock(_ path: String) throws(SystemError) -> (any FileLock)?
    /// Bytes free for new data on the file system holding `path` (nil when unknown).
    func availableBytes(_ path: String) -> Int64?
}

/// One open file of a `FileSystem`.
public protocol StorageFile: AnyObject, Sendable {
    func size() throws(SystemError) -> Int64
    /// Reads up to `buffer.count` bytes at `offset`; returns the count (short at end of file).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemError) -> Int
    /// Writes all of `bytes` at `offset` (volatile until `sync`).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(SystemError)
    /// Makes every write so far durable (fdatasync).
    func sync() throws(SystemError)
    func truncate(to size: Int64) throws(SystemError)
    /// Reserves space so that writes below `size` cannot fail for lack of space; grows the file
    /// to `size` (zero-filled) if it is shorter.
    func allocate(to size: Int64) throws(SystemError)
    /// A read-only view of bytes 0..<length that reflects later writes (shared mapping).
    func map(length: Int) throws(SystemError) -> MappedRegion
    func close()
}

/// A held exclusive lock; released by `unlock()` or when the process exits.
public protocol FileLock: AnyObject, Sendable {
    func unlock()
}

extension StorageFile {
    /// Reads the whole file into memory.
    public func readAll() throws(SystemError) -> [UInt8] {
        let length = Int(try size())
        var bytes = [UInt8](repeating: 0, count: length)
        var readCount = 0
        let result: Result<Int, SystemError> = bytes.withUnsafeMutableBytes { buffer in
            do throws(SystemError) { return .success(try read(into: buffer, at: 0)) } catch { return .failure(error) }
        }
        readCount = try result.get()
        if readCount < length { bytes.removeSubrange(readCount...) }
        return bytes
    }

    public func write(_ bytes: [UInt8], at offset: Int64) throws(SystemError) {
        let result: Result<Void, SystemError> = bytes.withUnsafeBytes { raw in
            do throws(SystemError) { try write(raw, at: offset); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }
}

extension FileSystem {
    /// Writes `bytes` to `path` atomically and durably: temp file, sync, rename, sync directory.
    public func writeAtomically(_ bytes: [UInt8], to path: String, directory: String) throws(SystemError) {
        let temporary = path + ".tmp"
        try remove(temporary)
        let file = try open(temporary, create: true)
        do {
            try file.truncate(to: 0)
            try file.write(bytes, at: 0)
            try file.sync()
        } catch {
            file.close()
            try? remove(temporary)
            throw error
        }
        file.close()
        try rename(temporary, to: path)
        try syncDirectory(directory)
    }
}

/// The real file system: POSIX calls through `SeqboxSystem`.
public struct PosixFileSystem: FileSystem {
    public init() {}

    public func createDirectory(_ path: String) throws(SystemError) { try Directory.create(path) }
    public func list(_ path: String) throws(SystemError) -> [String] { try Directory.list(path) }
    public func exists(_ path: String) -> Bool { Directory.exists(path) }
    public func isDirectory(_ path: String) -> Bool { Directory.isDirectory(path) }

    public func open(_ path: String, create: Bool) throws(SystemError) -> any StorageFile {
        PosixFile(fd: try FileDescriptor.open(path, .readWrite, create: create), path: path)
    }

    public func openReadOnly(_ path: String) throws(SystemError) -> any StorageFile {
        PosixFile(fd: try FileDescriptor.open(path, .readOnly), path: path)
    }

    public func remove(_ path: String) throws(SystemError) { try Directory.remove(path) }
    public func rename(_ source: String, to target: String) throws(SystemError) { try Directory.rename(source, to: target) }
    public func syncDirectory(_ path: String) throws(SystemError) { try Directory.sync(path) }

    public func lock(_ path: String) throws(SystemError) -> (any FileLock)? {
        let fd = try FileDescriptor.open(path, .readWrite, create: true)
        guard try fd.tryLockExclusive() else {
            fd.close()
            return nil
        }
        return PosixFileLock(fd: fd)
    }

    public func availableBytes(_ path: String) -> Int64? { try? Directory.availableBytes(path) }
}

/// A `StorageFile` over a real descriptor. `@unchecked Sendable`: the descriptor is immutable
/// and positional I/O (pread/pwrite) is safe from many threads.
final class PosixFile: StorageFile, @unchecked Sendable {
    let fd: FileDescriptor
    let path: String

    init(fd: FileDescriptor, path: String) {
        self.fd = fd
        self.path = path
    }

    func size() throws(SystemError) -> Int64 { try fd.size() }
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemError) -> Int {
        try fd.read(into: buffer, atAbsoluteOffset: offset)
    }
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(SystemError) {
        try fd.write(toAbsoluteOffset: offset, bytes)
    }
    func sync() throws(SystemError) { try fd.dataSync() }
    func truncate(to size: Int64) throws(SystemError) { try fd.truncate(toSize: size) }
    func allocate(to size: Int64) throws(SystemError) {
        let current = try fd.size()
        if size > current { try fd.allocate(offset: current, length: size - current) }
    }
    func map(length: Int) throws(SystemError) -> MappedRegion { try MappedRegion(fd: fd, length: length) }
    func close() { fd.close() }
}

/// An flock(2) held on an open descriptor.
final class PosixFileLock: FileLock, @unchecked Sendable {
    let fd: FileDescriptor
    init(fd: FileDescriptor) { self.fd = fd }
    func unlock() { fd.close() }
}
