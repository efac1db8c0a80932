#if canImport(Glibc)
import Glibc
#endif
import CSeqboxShim

/// The process's resource limits and the use a server sizes itself by: open files
/// (`RLIMIT_NOFILE`, which caps connections), descriptors in use and resident memory.
public enum ResourceLimits {
    /// A soft and a hard limit, as getrlimit(2) reports them (`UInt64.max`: unlimited).
    public struct Limit: Hashable, Sendable, CustomStringConvertible {
        /// What the kernel enforces now; a process may raise it up to `hard`.
        public var soft: UInt64
        /// The ceiling for `soft`; only a privileged process raises it.
        public var hard: UInt64

        public init(soft: UInt64, hard: UInt64) {
            self.soft = soft
            self.hard = hard
        }

        public var description: String { "soft \(soft), hard \(hard)" }
    }

    /// getrlimit(2) `RLIMIT_NOFILE`: how many descriptors the process may hold.
    public static func openFiles() throws(SystemError) -> Limit {
        var value = rlimit()
        _ = try retryingSyscall("getrlimit", path: "RLIMIT_NOFILE") { getrlimit(openFilesResource, &value) }
        return Limit(soft: UInt64(value.rlim_cur), hard: UInt64(value.rlim_max))
    }

    /// setrlimit(2) `RLIMIT_NOFILE`: raises the soft limit to the hard one (a server wants every
    /// descriptor it is allowed) and returns the limits now in force. Never lowers anything.
    @discardableResult
    public static func raiseOpenFilesToHardLimit() throws(SystemError) -> Limit {
        var value = rlimit()
        _ = try retryingSyscall("getrlimit", path: "RLIMIT_NOFILE") { getrlimit(openFilesResource, &value) }
        if value.rlim_cur < value.rlim_max {
            value.rlim_cur = value.rlim_max
            _ = try retryingSyscall("setrlimit", path: "RLIMIT_NOFILE") { setrlimit(openFilesResource, &value) }
        }
        return try openFiles()
    }

    /// The number of descriptors the process holds now (entries of /proc/self/fd, via
    /// opendir(3)/readdir(3)), or nil where /proc is missing. For tests and diagnostics.
    public static func openDescriptorCount() -> Int? {
        guard let names = try? Directory.list("/proc/self/fd") else { return nil }
        return names.count - 1  // the directory stream's own descriptor
    }

    /// The process's resident set size in bytes (/proc/self/statm, second field, times the page
    /// size from sysconf(3)), or nil where /proc is missing.
    public static func residentMemoryBytes() -> Int? {
        let fd = Glibc.open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = Glibc.close(fd) }
        var bytes = [UInt8](repeating: 0, count: 256)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let fields = bytes[..<count].split(separator: UInt8(ascii: " "))
        guard fields.count >= 2, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// `RLIMIT_NOFILE` as getrlimit(2) takes it (an enum type in Glibc's Swift import).
    private static var openFilesResource: __rlimit_resource_t {
        __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    }
}
