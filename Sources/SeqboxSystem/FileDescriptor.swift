#if canImport(Glibc)
import Glibc
#endif
import CSeqboxShim

/// An open file descriptor. A plain value: closing is explicit (`close()`), as in swift-system.
public struct FileDescriptor: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// How to open a file.
    public enum AccessMode: Sendable { case readOnly, readWrite }

    /// open(2) with `O_CLOEXEC`; `create` adds `O_CREAT` (mode 0644, or `permissions`).
    public static func open(
        _ path: String, _ mode: AccessMode, create: Bool = false, exclusive: Bool = false,
        permissions: mode_t = 0o644
    ) throws(SystemError) -> FileDescriptor {
        var flags = O_CLOEXEC | (mode == .readOnly ? O_RDONLY : O_RDWR)
        if create { flags |= O_CREAT }
        if exclusive { flags |= O_EXCL }
        let fd = try retryingSyscall("open", path: path) { Glibc.open(path, flags, permissions) }
        return FileDescriptor(rawValue: fd)
    }

    /// Opens a directory read-only, for `sync()` (making renames and creations durable).
    public static func openDirectory(_ path: String) throws(SystemError) -> FileDescriptor {
        let fd = try retryingSyscall("open", path: path) {
            Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        return FileDescriptor(rawValue: fd)
    }

    /// close(2). Errors are ignored: the descriptor is gone either way on Linux.
    public func close() { _ = Glibc.close(rawValue) }

    /// pread(2) until `buffer` is full or end of file; returns the bytes read.
    public func read(into buffer: UnsafeMutableRawBufferPointer, atAbsoluteOffset offset: Int64) throws(SystemError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = try retryingSyscall("pread") {
                pread(rawValue, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// pwrite(2) of all of `bytes` at `offset` (loops over short writes).
    public func write(toAbsoluteOffset offset: Int64, _ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let n = try retryingSyscall("pwrite") {
                pwrite(rawValue, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            }
            done += n
        }
    }

    /// fdatasync(2): data and the metadata needed to read it back are durable.
    public func dataSync() throws(SystemError) {
        _ = try retryingSyscall("fdatasync") { fdatasync(rawValue) }
    }

    /// fsync(2): data and all metadata are durable (used for directories).
    public func sync() throws(SystemError) {
        _ = try retryingSyscall("fsync") { fsync(rawValue) }
    }

    /// ftruncate(2).
    public func truncate(toSize size: Int64) throws(SystemError) {
        _ = try retryingSyscall("ftruncate") { ftruncate(rawValue, off_t(size)) }
    }

    /// fallocate(2) mode 0: reserves blocks so later writes in the range cannot hit ENOSPC.
    /// Falls back to ftruncate where the file system does not support it.
    public func allocate(offset: Int64, length: Int64) throws(SystemError) {
        do {
            _ = try retryingSyscall("fallocate") { shim_fallocate(rawValue, offset, length) }
        } catch where error.errno == .notSupported {
            try truncate(toSize: offset + length)
        }
    }

    /// The file's size from fstat(2).
    public func size() throws(SystemError) -> Int64 {
        var info = stat()
        _ = try retryingSyscall("fstat") { fstat(rawValue, &info) }
        return Int64(info.st_size)
    }

    /// flock(2) LOCK_EX | LOCK_NB: true if taken, false if another open file holds it.
    public func tryLockExclusive() throws(SystemError) -> Bool {
        while true {
            if flock(rawValue, LOCK_EX | LOCK_NB) == 0 { return true }
            let error = Errno.current
            if error == .interrupted { continue }
            if error == .wouldBlock { return false }
            throw SystemError(call: "flock", errno: error)
        }
    }
}
