#if canImport(Glibc)
import Glibc
#endif

/// Directory and path operations: mkdir, list, rename, unlink, statvfs.
public enum Directory {
    /// mkdir(2) of `path` and missing parents (0755). Existing directories are fine.
    public static func create(_ path: String) throws(SystemError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if Glibc.mkdir(prefix, 0o755) != 0 {
                let error = Errno.current
                if error != .exists { throw SystemError(call: "mkdir", path: prefix, errno: error) }
            }
            prefix += "/"
        }
    }

    /// The names in `path` (without "." and ".."), unsorted.
    public static func list(_ path: String) throws(SystemError) -> [String] {
        guard let handle = opendir(path) else { throw SystemError(call: "opendir", path: path, errno: .current) }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// True if `path` exists (any kind of file).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// True if `path` is a directory.
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// rename(2), atomic within a file system.
    public static func rename(_ source: String, to target: String) throws(SystemError) {
        _ = try retryingSyscall("rename", path: source) { Glibc.rename(source, target) }
    }

    /// unlink(2). A missing file is not an error.
    public static func remove(_ path: String) throws(SystemError) {
        if unlink(path) != 0 {
            let error = Errno.current
            if error != .noEntry { throw SystemError(call: "unlink", path: path, errno: error) }
        }
    }

    /// fsync(2) on the directory itself, so creations, renames and removals in it are durable.
    public static func sync(_ path: String) throws(SystemError) {
        let fd = try FileDescriptor.openDirectory(path)
        defer { fd.close() }
        try fd.sync()
    }

    /// Free bytes available to an unprivileged user on the file system holding `path`.
    public static func availableBytes(_ path: String) throws(SystemError) -> Int64 {
        var info = statvfs()
        _ = try retryingSyscall("statvfs", path: path) { statvfs(path, &info) }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
