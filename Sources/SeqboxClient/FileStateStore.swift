#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Keeps the client state in one small file, replaced atomically on every save: the bytes go to
/// `PATH.tmp`, which is fsynced, renamed over `PATH`, and the directory is fsynced, so after a
/// crash the file holds the previous state or the new one, whole.
///
/// A lock file `PATH.lock` (flock) is held from `init` until `close()` or deinit, so two
/// clients (or two processes) never share one state.
public final class FileStateStore: ClientStateStore {
    /// The state file.
    public let path: String
    /// Largest state file read (an outbox of many maximal messages still fits).
    public static let fileSizeMax = 256 << 20

    private let lockDescriptor: Mutex<Int32>

    /// Opens (creating the lock file if needed) and locks the state at `path`.
    /// Throws `stateFileLocked` when another client holds it.
    public init(path: String) throws(ClientError) {
        self.path = path
        let descriptor = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .system(operation: "open \(path).lock", errno: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            Glibc.close(descriptor)
            if code == EWOULDBLOCK { throw .stateFileLocked(path: path) }
            throw .system(operation: "flock \(path).lock", errno: code)
        }
        lockDescriptor = Mutex(descriptor)
    }

    deinit { close() }

    /// Releases the lock; the store must not be used afterwards.
    public func close() {
        lockDescriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            Glibc.close(descriptor)
            descriptor = -1
        }
    }

    public func load() throws(ClientError) -> ClientState? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw .system(operation: "open \(path)", errno: errno)
        }
        defer { Glibc.close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "read \(path)", errno: errno)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0 ..< count])
            guard bytes.count <= FileStateStore.fileSizeMax else {
                throw .stateFileCorrupt(path: path, detail: "larger than \(FileStateStore.fileSizeMax) bytes")
            }
        }
        do {
            return try ClientStateCodec.decode(bytes)
        } catch {
            throw .stateFileCorrupt(path: path, detail: error.description)
        }
    }

    public func save(_ state: ClientState) throws(ClientError) {
        let temporary = path + ".tmp"
        let bytes = ClientStateCodec.encode(state)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .system(operation: "open \(temporary)", errno: errno) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                Glibc.close(descriptor)
                throw .system(operation: "write \(temporary)", errno: code)
            }
            written += count
        }
        guard fsync(descriptor) == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw .system(operation: "fsync \(temporary)", errno: code)
        }
        Glibc.close(descriptor)
        guard rename(temporary, path) == 0 else { throw .system(operation: "rename \(temporary)", errno: errno) }
        try syncDirectory()
    }

    /// Makes the rename durable: fsync of the directory holding the file.
    private func syncDirectory() throws(ClientError) {
        let directory = FileStateStore.directory(of: path)
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system(operation: "open \(directory)", errno: errno) }
        defer { Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .system(operation: "fsync \(directory)", errno: errno) }
    }

    /// The directory part of `path` ("." when there is none).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }
}
