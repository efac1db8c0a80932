#if canImport(Glibc)
import Glibc
#endif

/// Walks directories with plain syscalls: sizes, page-cache eviction, removal.
enum FileTree {
    /// Calls `body(path, stat)` for `path` and, if it is a directory, everything below it
    /// (children before their directory).
    static func walk(_ path: String, _ body: (String, stat) -> Void) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR, let directory = opendir(path) {
            var children: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." { children.append(name) }
            }
            closedir(directory)
            for child in children { walk(path + "/" + child, body) }
        }
        body(path, info)
    }

    /// Bytes allocated on disk to the files under `path`.
    static func allocatedBytes(_ path: String) -> Int {
        var total = 0
        walk(path) { _, info in
            if (info.st_mode & S_IFMT) == S_IFREG { total += Int(info.st_blocks) * 512 }
        }
        return total
    }

    /// Writes back and drops the page-cache pages of every file under `path`, so the next
    /// open reads from the device (a cold open without needing root).
    static func evictFromPageCache(_ path: String) {
        walk(path) { file, info in
            guard (info.st_mode & S_IFMT) == S_IFREG else { return }
            let fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            fdatasync(fd)
            posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
            close(fd)
        }
    }

    /// Removes `path` and everything below it.
    static func remove(_ path: String) {
        walk(path) { file, info in
            if (info.st_mode & S_IFMT) == S_IFDIR { rmdir(file) } else { unlink(file) }
        }
    }

    static func createDirectory(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw BenchError("mkdir \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }
}
