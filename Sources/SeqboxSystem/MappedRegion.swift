#if canImport(Glibc)
import Glibc
#endif

/// A read-only shared mapping of a file (mmap(2) `PROT_READ`, `MAP_SHARED`), unmapped on deinit.
///
/// A class so that readers can hold the mapping alive while a segment is retired: the last
/// reference unmaps. `@unchecked Sendable` is sound because the mapped bytes are never written
/// through this pointer; writes go through `pwrite` on the file and Linux's unified page cache
/// makes them visible here.
public final class MappedRegion: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer

    /// Maps `length` bytes of `fd` from offset 0. `length` must be > 0.
    public init(fd: FileDescriptor, length: Int) throws(SystemError) {
        precondition(length > 0, "cannot map an empty region")
        guard let address = mmap(nil, length, PROT_READ, MAP_SHARED, fd.rawValue, 0),
              address != MAP_FAILED
        else { throw SystemError(call: "mmap", errno: .current) }
        bytes = UnsafeRawBufferPointer(start: address, count: length)
    }

    /// Wraps memory owned elsewhere (the simulated file system); `release` runs on deinit.
    public init(borrowing bytes: UnsafeRawBufferPointer, release: @escaping @Sendable () -> Void) {
        self.bytes = bytes
        self.release = release
    }

    private var release: (@Sendable () -> Void)?

    /// Drops the resident pages of bytes `from...` (madvise MADV_DONTNEED on whole pages): the
    /// preallocated, never-written tail of an active segment need not count in memory after a
    /// scan touched it. The bytes read the same afterwards (shared file mapping).
    public func releasePages(from offset: Int) {
        guard release == nil, let base = bytes.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (offset + page - 1) / page * page
        guard start < bytes.count else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), bytes.count - start, MADV_DONTNEED)
    }

    deinit {
        if let release {
            release()
        } else if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }
}
