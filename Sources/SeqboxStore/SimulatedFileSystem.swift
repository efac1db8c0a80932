#if canImport(Glibc)
import Glibc
#endif
import SeqboxSystem
import Synchronization

/// An in-memory `FileSystem` that knows what is durable, so tests can cut the power at any
/// instant (`crash(seed:tearing:)`) and run the store again on what a real disk would hold.
/// In the spirit of LevelDB's fault-injection Env and TigerBeetle's simulated storage.
///
/// What it keeps, per the durability contract in `FileSystem.swift`:
/// - A tree of directories and files. Paths are strings resolved from one root: "/a", "a",
///   "a//b/" and "a/./b" name the same thing; ".." is resolved lexically.
/// - Each directory has its *current* entries (what every call sees) and its *durable* entries
///   (as of its last `syncDirectory`). Create, rename and remove change only the current
///   entries. A file's content belongs to the file (inode), not to its name.
/// - Each file has *current* bytes (the page cache: what reads and mappings see) and *durable*
///   bytes (as of its last `sync()`), plus the ordered list of changes since that sync:
///   writes (offset, bytes), truncations and allocations.
///
/// The crash model (`crash(seed:tearing:)`), exactly:
/// 1. Names: the new file system holds the durable tree, reached from the root through durable
///    entries only. Unsynced creations vanish, unsynced renames are undone (the old name keeps
///    the file), unsynced removals reappear. Name operations are never partially applied.
/// 2. Content: each surviving file starts from its durable bytes. With `tearing: false`, that is
///    all. With `tearing: true`, a seeded-random number k (uniform in 0...n) of its n unsynced
///    changes is applied in order; if change k+1 is a write, a seeded-random prefix of it of any
///    byte count from 0 to count-1 is applied too (byte granularity, harsher than sectors).
/// 3. Out of order: with probability 1/4 per file, each 4 KiB page (file offset / 4096) touched
///    by each later unsynced write independently persists with probability 1/2, in write order,
///    clipped to the file length reached in step 2 (pages never extend a file).
/// 4. Hence every byte after a crash is its durable byte, a zero (a hole from an extension), or
///    a byte an unsynced write put at that very offset. Unsynced bytes never appear elsewhere.
/// 5. Locks, open files, fault hooks and pending one-shot failures do not survive; the capacity
///    (the disk's size) does. The crashed instance refuses mutations with EIO (a dead disk) and
///    stays readable for inspection, so one instant can be crashed again with other seeds.
///
/// Memory for mappings: each file's current bytes live in a zero-filled, page-aligned heap block
/// that never moves. When a file outgrows its block, a bigger block takes over and the old one
/// stays alive while any `MappedRegion` holds it; writes and truncations are mirrored into such
/// retired blocks, so every mapping stays valid and reflects later writes to its range.
///
/// Thread-safe: all state sits behind one `Mutex`. Reading a mapping while another thread writes
/// the same bytes races exactly as a real shared mapping does.
public final class SimulatedFileSystem: FileSystem {
    /// The operations a fault can be injected into (see `faultHook`, `failNext`).
    public enum Operation: String, Sendable, CaseIterable {
        case createDirectory, list, open, remove, rename, syncDirectory, lock
        case read, write, sync, truncate, allocate, map

        /// The system call the real file system would have made, for error messages.
        public var systemCall: String {
            switch self {
            case .createDirectory: "mkdir"
            case .list: "opendir"
            case .open: "open"
            case .remove: "unlink"
            case .rename: "rename"
            case .syncDirectory: "fsync"
            case .lock: "flock"
            case .read: "pread"
            case .write: "pwrite"
            case .sync: "fdatasync"
            case .truncate: "ftruncate"
            case .allocate: "fallocate"
            case .map: "mmap"
            }
        }
    }

    /// Consulted before each operation with the operation and the path (for file operations, the
    /// path the file was opened with); a returned errno makes the operation fail with no effect.
    public typealias FaultHook = @Sendable (Operation, String) -> Errno?

    /// Counters for tests: how much work the code under test asked of the disk. Successful
    /// operations only.
    public struct Statistics: Sendable, Equatable {
        /// File `sync()` calls (fdatasync).
        public var syncCount = 0
        /// `syncDirectory` calls.
        public var directorySyncCount = 0
        /// `write` calls with at least one byte.
        public var writeCount = 0
        /// Bytes passed to `write`.
        public var bytesWritten: Int64 = 0
        /// Operations failed by `faultHook` or `failNext`.
        public var injectedFaultCount = 0

        /// All zero.
        public init() {}
    }

    /// The largest file the simulation holds (4 GiB): writes, truncations and allocations past it
    /// fail with EFBIG instead of exhausting memory.
    public static let fileBytesMax: Int64 = 1 << 32
    /// The unit of out-of-order persistence at a crash (a page of the page cache).
    public static let crashPageBytes = 4096
    /// A crashed file lets pages of later unsynced writes persist out of order with probability
    /// 1/`crashReorderOdds` (step 3 of the crash model).
    public static let crashReorderOdds = 4

    private let state: Mutex<State>

    /// An empty file system (just the root, durable). `capacityBytes` nil means unlimited.
    public init(capacityBytes: Int64? = nil) {
        state = Mutex(State(root: DirectoryNode(), capacityBytes: capacityBytes))
    }

    private init(image: consuming sending State) {
        state = Mutex(image)
    }

    // MARK: - Test controls

    /// The disk's size: writes and allocations that would make the files' total current size
    /// exceed it fail with ENOSPC (nil: unlimited). Settable at any time, to fill or free the disk.
    public var capacityBytes: Int64? {
        get { state.withLock { $0.capacityBytes } }
        set { state.withLock { $0.capacityBytes = newValue } }
    }

    /// Total current size of all files that have a name (what counts against `capacityBytes`).
    public var usedBytes: Int64 { state.withLock { $0.usedBytes } }

    /// Consulted before every operation named in `Operation` (not `exists`, `isDirectory`,
    /// `size`, `close`); see `FaultHook`. Nil (the default) injects nothing.
    public var faultHook: FaultHook? {
        get { state.withLock { $0.faultHook } }
        set { state.withLock { $0.faultHook = newValue } }
    }

    /// Makes the next `operation` (on any path) fail once with `errno`, without effect.
    public func failNext(_ operation: Operation, errno: Errno = .io) {
        state.withLock { $0.oneShotFailures[operation] = errno }
    }

    /// Makes the next file `sync()` fail once with `errno` (its writes stay unsynced).
    public func failNextSync(_ errno: Errno = .io) {
        failNext(.sync, errno: errno)
    }

    /// What the code under test has asked of the disk so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// True once `crash` was called: this instance then refuses mutations with EIO.
    public var isCrashed: Bool { state.withLock { $0.isCrashed } }

    /// A new file system holding what a power failure at this instant would leave (the crash
    /// model is in the type's documentation). The same seed on the same state gives the same
    /// result, so a failing run replays from its seed.
    public func crash(seed: UInt64, tearing: Bool = true) -> SimulatedFileSystem {
        let image = state.withLock { state -> State in
            state.isCrashed = true
            return state.crashImage(seed: seed, tearing: tearing)
        }
        return SimulatedFileSystem(image: image)
    }

    // MARK: - Byte surgery and inspection

    /// The current bytes of the file at `path` (including unsynced writes), nil when there is no
    /// file there.
    public func contents(of path: String) -> [UInt8]? {
        state.withLock { state in
            guard case .file(let file)? = state.node(at: path) else { return nil }
            return file.currentBytes
        }
    }

    /// The bytes of the file at `path` as of its last `sync()`, nil when there is no file there.
    public func durableContents(of path: String) -> [UInt8]? {
        state.withLock { state in
            guard case .file(let file)? = state.node(at: path) else { return nil }
            return file.durable.array
        }
    }

    /// Writes `bytes` as the file at `path`, durably (content and name), as if an earlier process
    /// had written and synced it: for planting fixtures and corruption. Ignores `capacityBytes`.
    /// Creates the file when missing; its directory must exist. Unsynced changes are discarded.
    public func setContents(_ bytes: [UInt8], of path: String) {
        state.withLock { state in
            state.requireIntactForSurgery()
            let (directory, name) = state.parentForSurgery(of: path)
            let file: FileNode
            switch directory.entries[name] {
            case .file(let existing)?:
                file = existing
            case .directory?:
                preconditionFailure("setContents: \(path) is a directory")
            case nil:
                file = FileNode()
                state.link(.file(file), as: name, in: directory)
            }
            directory.durableEntries[name] = .file(file)
            state.changeUsage(of: file, to: bytes.count)
            file.resize(to: 0)
            bytes.withUnsafeBytes { file.write($0, at: 0) }
            file.durable = bytes.withUnsafeBytes { ByteImage(copying: $0) }
            file.pending = []
        }
    }

    /// Flips bit `bit` (0 = least significant) of byte `offset` of the file at `path`, in its
    /// current and (when that long) durable bytes: media corruption, for checksum tests.
    public func flipBit(path: String, offset: Int, bit: Int) {
        precondition((0..<8).contains(bit), "flipBit: bit \(bit) is not in 0..<8")
        state.withLock { state in
            state.requireIntactForSurgery()
            let file = state.fileForSurgery(at: path)
            precondition(offset >= 0 && offset < file.size, "flipBit: offset \(offset) is outside \(path) (\(file.size) bytes)")
            let mask = UInt8(1) << UInt8(bit)
            var byte = file.block.pointer.load(fromByteOffset: offset, as: UInt8.self) ^ mask
            withUnsafeBytes(of: &byte) { file.write($0, at: offset) }
            if offset < file.durable.count { file.durable.flipBits(at: offset, mask: mask) }
        }
    }

    /// Cuts (or zero-extends) the file at `path` to `size` bytes, current and durable: a torn or
    /// shortened file, for recovery tests. Unsynced changes stay pending.
    public func truncateFile(path: String, to size: Int) {
        precondition(size >= 0, "truncateFile: negative size \(size)")
        state.withLock { state in
            state.requireIntactForSurgery()
            let file = state.fileForSurgery(at: path)
            state.changeUsage(of: file, to: size)
            file.resize(to: size)
            file.durable.resize(to: size)
        }
    }

    /// Creates `path` and its missing parents and makes every component's name durable: test
    /// setup for a data directory that existed before the code under test started.
    public func createDirectoryDurably(_ path: String) throws(SystemError) {
        try createDirectory(path)
        state.withLock { state in
            var directory = state.root
            for name in State.components(of: path) {
                guard case .directory(let child)? = directory.entries[name] else { return }
                directory.durableEntries[name] = .directory(child)
                directory = child
            }
        }
    }

    // MARK: - FileSystem

    /// mkdir -p: creates `path` and its missing parents (not durable until the parents are
    /// synced). Existing directories are fine; an existing file is EEXIST (ENOTDIR mid-path).
    public func createDirectory(_ path: String) throws(SystemError) {
        try checkFault(.createDirectory, path)
        try state.withLock { (state) throws(SystemError) in
            try state.requireLive(.createDirectory, path)
            var directory = state.root
            let names = State.components(of: path)
            for (index, name) in names.enumerated() {
                switch directory.entries[name] {
                case .directory(let child)?:
                    directory = child
                case .file?:
                    throw SystemError(call: "mkdir", path: path, errno: Errno(rawValue: index == names.count - 1 ? EEXIST : ENOTDIR))
                case nil:
                    let child = DirectoryNode()
                    state.link(.directory(child), as: name, in: directory)
                    directory = child
                }
            }
        }
    }

    /// The current names in directory `path`, sorted (POSIX leaves the order unspecified).
    public func list(_ path: String) throws(SystemError) -> [String] {
        try checkFault(.list, path)
        return try state.withLock { (state) throws(SystemError) -> [String] in
            try state.directory(at: State.components(of: path)[...], call: "opendir", path: path).entries.keys.sorted()
        }
    }

    /// True if `path` names a file or directory in the current tree.
    public func exists(_ path: String) -> Bool {
        state.withLock { $0.node(at: path) != nil }
    }

    /// True if `path` names a directory in the current tree.
    public func isDirectory(_ path: String) -> Bool {
        state.withLock { state in
            if case .directory? = state.node(at: path) { return true }
            return false
        }
    }

    /// Opens the file at `path` for reading and writing, creating it (empty, name not durable)
    /// when `create` is true. ENOENT, ENOTDIR, EISDIR as POSIX.
    public func open(_ path: String, create: Bool) throws(SystemError) -> any StorageFile {
        try checkFault(.open, path)
        let file = try state.withLock { (state) throws(SystemError) -> FileNode in
            try state.file(at: path, create: create, call: "open")
        }
        return SimulatedFile(fileSystem: self, node: file, path: path, isWritable: true)
    }

    /// Opens the file at `path` read-only: writes, truncations and allocations fail (EBADF/EINVAL).
    public func openReadOnly(_ path: String) throws(SystemError) -> any StorageFile {
        try checkFault(.open, path)
        let file = try state.withLock { (state) throws(SystemError) -> FileNode in
            try state.file(at: path, create: false, call: "open")
        }
        return SimulatedFile(fileSystem: self, node: file, path: path, isWritable: false)
    }

    /// Unlinks the file at `path` (not durable until its directory is synced); a missing file is
    /// not an error, a directory is EISDIR, as `PosixFileSystem`. Open handles keep working.
    public func remove(_ path: String) throws(SystemError) {
        try checkFault(.remove, path)
        try state.withLock { (state) throws(SystemError) in
            try state.requireLive(.remove, path)
            let directory: DirectoryNode
            let name: String?
            do throws(SystemError) {
                (directory, name) = try state.parent(of: path, call: "unlink")
            } catch {
                if error.errno == .noEntry { return }
                throw error
            }
            guard let name else { throw SystemError(call: "unlink", path: path, errno: Errno(rawValue: EISDIR)) }
            switch directory.entries[name] {
            case nil:
                return
            case .directory?:
                throw SystemError(call: "unlink", path: path, errno: Errno(rawValue: EISDIR))
            case .file(let file)?:
                directory.entries[name] = nil
                state.unlink(.file(file))
            }
        }
    }

    /// rename(2) in the current tree, replacing an existing target; durable only once both
    /// directories are synced. Errnos as POSIX (ENOENT, EISDIR, ENOTDIR, ENOTEMPTY, EINVAL).
    public func rename(_ source: String, to target: String) throws(SystemError) {
        try checkFault(.rename, source)
        try state.withLock { (state) throws(SystemError) in
            try state.requireLive(.rename, source)
            try state.rename(source, to: target)
        }
    }

    /// Makes the current entries of directory `path` durable (fsync of the directory).
    public func syncDirectory(_ path: String) throws(SystemError) {
        try checkFault(.syncDirectory, path)
        try state.withLock { (state) throws(SystemError) in
            try state.requireLive(.syncDirectory, path)
            switch state.node(at: path) {
            case .directory(let directory)?:
                directory.durableEntries = directory.entries
                state.statistics.directorySyncCount += 1
            case .file?:
                throw SystemError(call: "open", path: path, errno: Errno(rawValue: ENOTDIR))
            case nil:
                _ = try state.parent(of: path, call: "open")
                throw SystemError(call: "open", path: path, errno: .noEntry)
            }
        }
    }

    /// Takes the in-memory exclusive lock on the file at `path` (created if missing, as the real
    /// one opens with O_CREAT); nil while another holder has it. Locks vanish at a crash.
    public func lock(_ path: String) throws(SystemError) -> (any FileLock)? {
        try checkFault(.lock, path)
        return try state.withLock { (state) throws(SystemError) -> SimulatedFileLock? in
            try state.requireLive(.lock, path)
            let file = try state.file(at: path, create: true, call: "open")
            let key = ObjectIdentifier(file)
            if state.lockedFiles[key] != nil { return nil }
            state.lockedFiles[key] = file
            return SimulatedFileLock(fileSystem: self, node: file)
        }
    }

    /// `capacityBytes` minus `usedBytes` (never negative); nil when the capacity is unlimited or
    /// `path` does not exist (as statvfs would fail).
    public func availableBytes(_ path: String) -> Int64? {
        state.withLock { state in
            guard let capacity = state.capacityBytes, state.node(at: path) != nil else { return nil }
            return max(0, capacity - state.usedBytes)
        }
    }

    // MARK: - File operations (called by SimulatedFile)

    fileprivate func size(of file: FileNode) -> Int64 {
        state.withLock { _ in Int64(file.size) }
    }

    fileprivate func read(_ file: FileNode, path: String, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemError) -> Int {
        try checkFault(.read, path)
        guard offset >= 0 else { throw SystemError(call: "pread", path: path, errno: Errno(rawValue: EINVAL)) }
        return state.withLock { _ in
            guard offset < file.size, let target = buffer.baseAddress else { return 0 }
            let count = min(buffer.count, file.size - Int(offset))
            target.copyMemory(from: file.block.pointer + Int(offset), byteCount: count)
            return count
        }
    }

    fileprivate func write(_ file: FileNode, path: String, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(SystemError) {
        try checkFault(.write, path)
        try Self.checkRange(offset: offset, count: bytes.count, call: "pwrite", path: path)
        guard !bytes.isEmpty else { return }
        try state.withLock { (state) throws(SystemError) in
            try state.requireLive(.write, path)
            let end = Int(offset) + bytes.count
            try state.reserveGrowth(of: file, to: end, call: "pwrite", path: path)
            state.changeUsage(of: file, to: max(file.size, end))
            file.write(bytes, at: Int(offset))
            file.pending.append(.write(offset: Int(offset), bytes: Array(bytes)))
            state.statistics.writeCount += 1
            state.statistics.bytesWritten += Int64(bytes.count)
        }
    }

    fileprivate func sync(_ file: FileNode, path: String) throws(SystemError) {
        try checkFault(.sync, path)
        try state.withLock { (state) throws(SystemError) in
            try state.requireLive(.sync, path)
            for change in file.pending { change.apply(to: file.durable) }
            file.pending.removeAll()
            state.statistics.syncCount += 1
        }
    }

    fileprivate func truncate(_ file: FileNode, path: String, to size: Int64) throws(SystemError) {
        try checkFault(.truncate, path)
        try Self.checkRange(offset: size, count: 0, call: "ftruncate", path: path)
        try state.withLock { (state) throws(SystemError) in
            try state.requireLive(.truncate, path)
            // Growing by ftruncate makes a sparse hole: it uses no blocks, so it cannot fail
            // for space (it still counts in usedBytes, a simplification).
            state.changeUsage(of: file, to: Int(size))
            file.resize(to: Int(size))
            file.pending.append(.resize(to: Int(size)))
        }
    }

    fileprivate func allocate(_ file: FileNode, path: String, to size: Int64) throws(SystemError) {
        try checkFault(.allocate, path)
        try Self.checkRange(offset: size, count: 0, call: "fallocate", path: path)
        try state.withLock { (state) throws(SystemError) in
            try state.requireLive(.allocate, path)
            guard Int(size) > file.size else { return }
            try state.reserveGrowth(of: file, to: Int(size), call: "fallocate", path: path)
            state.changeUsage(of: file, to: Int(size))
            file.resize(to: Int(size))
            file.pending.append(.allocate(to: Int(size)))
        }
    }

    fileprivate func map(_ file: FileNode, path: String, length: Int) throws(SystemError) -> MappedRegion {
        precondition(length > 0, "cannot map an empty region")
        try checkFault(.map, path)
        try Self.checkRange(offset: 0, count: length, call: "mmap", path: path)
        let block = state.withLock { _ -> ContentBlock in
            file.reserveCapacity(length)
            return file.block
        }
        let bytes = UnsafeRawBufferPointer(start: block.pointer, count: length)
        return MappedRegion(borrowing: bytes, release: { withExtendedLifetime(block) {} })
    }

    fileprivate func unlock(_ file: FileNode) {
        state.withLock { state in
            if state.lockedFiles[ObjectIdentifier(file)] === file { state.lockedFiles[ObjectIdentifier(file)] = nil }
        }
    }

    // MARK: - Helpers

    /// Runs the one-shot failure and the fault hook for `operation`; throws what they inject.
    /// The hook runs outside the lock so it may call back into the file system.
    private func checkFault(_ operation: Operation, _ path: String) throws(SystemError) {
        let (hook, oneShot) = state.withLock { state in
            (state.faultHook, state.oneShotFailures.removeValue(forKey: operation))
        }
        guard let errno = oneShot ?? hook?(operation, path) else { return }
        state.withLock { $0.statistics.injectedFaultCount += 1 }
        throw SystemError(call: operation.systemCall, path: path, errno: errno)
    }

    private static func checkRange(offset: Int64, count: Int, call: String, path: String) throws(SystemError) {
        guard offset >= 0 else { throw SystemError(call: call, path: path, errno: Errno(rawValue: EINVAL)) }
        guard offset <= fileBytesMax - Int64(count) else {
            throw SystemError(call: call, path: path, errno: Errno(rawValue: EFBIG))
        }
    }
}

// MARK: - State

extension SimulatedFileSystem {
    /// Everything behind the mutex. The nodes are classes reached only while it is held.
    fileprivate struct State: Sendable {
        var root: DirectoryNode
        var capacityBytes: Int64?
        var usedBytes: Int64 = 0
        var faultHook: FaultHook?
        var oneShotFailures: [Operation: Errno] = [:]
        var lockedFiles: [ObjectIdentifier: FileNode] = [:]
        var statistics = Statistics()
        var isCrashed = false

        init(root: DirectoryNode, capacityBytes: Int64?) {
            self.root = root
            self.capacityBytes = capacityBytes
        }

        /// "/a//b/./c/" → ["a", "b", "c"]; ".." drops the previous name (never above the root).
        static func components(of path: String) -> [String] {
            var names: [String] = []
            for part in path.split(separator: "/", omittingEmptySubsequences: true) {
                if part == "." { continue }
                if part == ".." {
                    if !names.isEmpty { names.removeLast() }
                    continue
                }
                names.append(String(part))
            }
            return names
        }

        func requireLive(_ operation: Operation, _ path: String) throws(SystemError) {
            if isCrashed { throw SystemError(call: operation.systemCall, path: path, errno: .io) }
        }

        func requireIntactForSurgery() {
            precondition(!isCrashed, "byte surgery on a crashed SimulatedFileSystem: use the instance crash() returned")
        }

        func node(at path: String) -> Node? {
            var node = Node.directory(root)
            for name in Self.components(of: path) {
                guard case .directory(let directory) = node, let child = directory.entries[name] else { return nil }
                node = child
            }
            return node
        }

        /// The directory at `names`: ENOENT when a name is missing, ENOTDIR when one is a file.
        func directory(at names: ArraySlice<String>, call: String, path: String) throws(SystemError) -> DirectoryNode {
            var directory = root
            for name in names {
                switch directory.entries[name] {
                case .directory(let child)?: directory = child
                case .file?: throw SystemError(call: call, path: path, errno: Errno(rawValue: ENOTDIR))
                case nil: throw SystemError(call: call, path: path, errno: .noEntry)
                }
            }
            return directory
        }

        /// The directory holding `path` and the last name (nil for the root itself).
        func parent(of path: String, call: String) throws(SystemError) -> (DirectoryNode, String?) {
            let names = Self.components(of: path)
            guard let last = names.last else { return (root, nil) }
            return (try directory(at: names.dropLast(), call: call, path: path), last)
        }

        func parentForSurgery(of path: String) -> (DirectoryNode, String) {
            guard case (let directory, let name?)? = try? parent(of: path, call: "surgery") else {
                preconditionFailure("byte surgery: the directory of \(path) does not exist")
            }
            return (directory, name)
        }

        func fileForSurgery(at path: String) -> FileNode {
            guard case .file(let file)? = node(at: path) else { preconditionFailure("byte surgery: no file at \(path)") }
            return file
        }

        /// The file at `path`, created (empty, name not durable) when missing and `create`.
        mutating func file(at path: String, create: Bool, call: String) throws(SystemError) -> FileNode {
            let (directory, name) = try parent(of: path, call: call)
            guard let name else { throw SystemError(call: call, path: path, errno: Errno(rawValue: EISDIR)) }
            switch directory.entries[name] {
            case .file(let file)?:
                return file
            case .directory?:
                throw SystemError(call: call, path: path, errno: Errno(rawValue: EISDIR))
            case nil:
                guard create else { throw SystemError(call: call, path: path, errno: .noEntry) }
                if isCrashed { throw SystemError(call: call, path: path, errno: .io) }
                let file = FileNode()
                link(.file(file), as: name, in: directory)
                return file
            }
        }

        mutating func link(_ node: Node, as name: String, in directory: DirectoryNode) {
            directory.entries[name] = node
            guard case .file(let file) = node else { return }
            file.linkCount += 1
            if file.linkCount == 1 { usedBytes += Int64(file.size) }
        }

        mutating func unlink(_ node: Node) {
            guard case .file(let file) = node else { return }
            file.linkCount -= 1
            if file.linkCount == 0 { usedBytes -= Int64(file.size) }
        }

        /// Keeps `usedBytes` right before `file` changes size to `newSize`.
        mutating func changeUsage(of file: FileNode, to newSize: Int) {
            if file.linkCount > 0 { usedBytes += Int64(newSize - file.size) }
        }

        /// ENOSPC when growing `file` to `newSize` would exceed the capacity.
        func reserveGrowth(of file: FileNode, to newSize: Int, call: String, path: String) throws(SystemError) {
            let growth = Int64(newSize - file.size)
            guard growth > 0, let capacityBytes else { return }
            if usedBytes + growth > capacityBytes { throw SystemError(call: call, path: path, errno: .noSpace) }
        }

        mutating func rename(_ source: String, to target: String) throws(SystemError) {
            let (sourceDirectory, sourceName) = try parent(of: source, call: "rename")
            let (targetDirectory, targetName) = try parent(of: target, call: "rename")
            guard let sourceName, let targetName else {
                throw SystemError(call: "rename", path: source, errno: Errno(rawValue: EBUSY))
            }
            guard let moving = sourceDirectory.entries[sourceName] else {
                throw SystemError(call: "rename", path: source, errno: .noEntry)
            }
            if let existing = targetDirectory.entries[targetName] {
                if existing.object === moving.object { return }
                switch (moving, existing) {
                case (.file, .directory):
                    throw SystemError(call: "rename", path: target, errno: Errno(rawValue: EISDIR))
                case (.directory, .file):
                    throw SystemError(call: "rename", path: target, errno: Errno(rawValue: ENOTDIR))
                case (.directory, .directory(let replaced)) where !replaced.entries.isEmpty:
                    throw SystemError(call: "rename", path: target, errno: Errno(rawValue: ENOTEMPTY))
                default:
                    break
                }
            }
            if case .directory = moving {
                let sourceNames = Self.components(of: source)
                if Self.components(of: target).starts(with: sourceNames) {
                    throw SystemError(call: "rename", path: target, errno: Errno(rawValue: EINVAL))
                }
            }
            sourceDirectory.entries[sourceName] = nil
            if let existing = targetDirectory.entries[targetName] { unlink(existing) }
            targetDirectory.entries[targetName] = moving
        }

        // MARK: Crash

        /// The state a power failure now would leave (see the crash model on the type).
        func crashImage(seed: UInt64, tearing: Bool) -> State {
            var random = SeededRandom(seed: seed)
            var copies: [ObjectIdentifier: Node] = [:]
            var image = State(root: DirectoryNode(), capacityBytes: capacityBytes)
            copies[ObjectIdentifier(root)] = .directory(image.root)
            image.copyDurableEntries(of: root, into: image.root, copies: &copies, random: &random, tearing: tearing)
            return image
        }

        /// Depth-first over durable entries in name order, so the seed alone fixes the result.
        /// `copies` keeps one copy per node (a node reached twice, after a half-synced
        /// cross-directory rename, stays one node with two names).
        private mutating func copyDurableEntries(
            of original: DirectoryNode, into copy: DirectoryNode,
            copies: inout [ObjectIdentifier: Node], random: inout SeededRandom, tearing: Bool
        ) {
            for name in original.durableEntries.keys.sorted() {
                let child = original.durableEntries[name]!
                if let existing = copies[ObjectIdentifier(child.object)] {
                    link(existing, as: name, in: copy)
                    continue
                }
                switch child {
                case .file(let file):
                    let survivor = Node.file(FileNode(durable: file.crashImage(random: &random, tearing: tearing)))
                    copies[ObjectIdentifier(file)] = survivor
                    link(survivor, as: name, in: copy)
                case .directory(let directory):
                    let survivor = DirectoryNode()
                    copies[ObjectIdentifier(directory)] = .directory(survivor)
                    link(.directory(survivor), as: name, in: copy)
                    copyDurableEntries(of: directory, into: survivor, copies: &copies, random: &random, tearing: tearing)
                }
            }
            copy.durableEntries = copy.entries
        }
    }
}

// MARK: - Nodes

extension SimulatedFileSystem {
    /// A directory entry's target.
    fileprivate enum Node: Sendable {
        case file(FileNode)
        case directory(DirectoryNode)

        var object: AnyObject {
            switch self {
            case .file(let file): file
            case .directory(let directory): directory
            }
        }
    }

    /// `@unchecked Sendable`: touched only while the file system's mutex is held.
    fileprivate final class DirectoryNode: @unchecked Sendable {
        /// What every call sees.
        var entries: [String: Node] = [:]
        /// As of the last `syncDirectory`: what a crash leaves.
        var durableEntries: [String: Node] = [:]
    }

    /// A change to a file since its last sync, kept in order for the crash model.
    fileprivate enum PendingChange: Sendable {
        case write(offset: Int, bytes: [UInt8])
        case resize(to: Int)
        case allocate(to: Int)

        func apply(to image: ByteImage) {
            switch self {
            case .write(let offset, let bytes):
                bytes.withUnsafeBytes { image.write($0, at: offset) }
            case .resize(let size):
                image.resize(to: size)
            case .allocate(let size):
                if size > image.count { image.resize(to: size) }
            }
        }
    }

    /// Heap memory holding a file's current bytes; zero-filled, page-aligned, never moves.
    /// `@unchecked Sendable`: written only under the file system's mutex; mappings only read.
    fileprivate final class ContentBlock: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
        let capacity: Int

        init(capacity: Int) {
            self.capacity = capacity
            pointer = .allocate(byteCount: max(capacity, 1), alignment: SimulatedFileSystem.crashPageBytes)
            pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(capacity, 1))
        }

        deinit { pointer.deallocate() }
    }

    /// A growable byte array in raw memory (durable bytes, crash images): growth, copies and
    /// zero-fills are memcpy/memset even in debug builds. Bytes count..<capacity are zero.
    /// `@unchecked Sendable`: owned by one `FileNode`, touched only under the mutex.
    fileprivate final class ByteImage: @unchecked Sendable {
        private(set) var pointer: UnsafeMutableRawPointer
        private var capacity: Int
        private(set) var count: Int

        init(capacity: Int = 0) {
            self.capacity = capacity
            count = 0
            pointer = .allocate(byteCount: max(capacity, 1), alignment: 16)
            pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(capacity, 1))
        }

        convenience init(copying bytes: UnsafeRawBufferPointer) {
            self.init(capacity: bytes.count)
            write(bytes, at: 0)
        }

        deinit { pointer.deallocate() }

        var array: [UInt8] { Self.array(of: UnsafeRawBufferPointer(start: pointer, count: count)) }

        func copy() -> ByteImage { ByteImage(copying: UnsafeRawBufferPointer(start: pointer, count: count)) }

        /// Copies `bytes` to `offset`, zero-filling any gap past the end.
        func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
            guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
            if offset + bytes.count > count { resize(to: offset + bytes.count) }
            (pointer + offset).copyMemory(from: source, byteCount: bytes.count)
        }

        func resize(to newCount: Int) {
            if newCount < count {
                (pointer + newCount).initializeMemory(as: UInt8.self, repeating: 0, count: count - newCount)
            } else if newCount > capacity {
                let grownCapacity = max(newCount, capacity * 2)
                let grown = UnsafeMutableRawPointer.allocate(byteCount: grownCapacity, alignment: 16)
                grown.copyMemory(from: pointer, byteCount: count)
                (grown + count).initializeMemory(as: UInt8.self, repeating: 0, count: grownCapacity - count)
                pointer.deallocate()
                pointer = grown
                capacity = grownCapacity
            }
            count = newCount
        }

        func flipBits(at offset: Int, mask: UInt8) {
            let byte = pointer.load(fromByteOffset: offset, as: UInt8.self)
            pointer.storeBytes(of: byte ^ mask, toByteOffset: offset, as: UInt8.self)
        }

        static func array(of bytes: UnsafeRawBufferPointer) -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, initializedCount in
                if let source = bytes.baseAddress, let target = buffer.baseAddress, bytes.count > 0 {
                    UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: bytes.count)
                }
                initializedCount = bytes.count
            }
        }
    }

    fileprivate struct WeakBlock {
        weak var block: ContentBlock?
    }

    /// A file (inode): current bytes in `block`, durable bytes, and the changes between them.
    /// `@unchecked Sendable`: touched only while the file system's mutex is held.
    fileprivate final class FileNode: @unchecked Sendable {
        /// Holds the current bytes 0..<size; bytes size..<capacity are always zero.
        private(set) var block: ContentBlock
        /// Blocks this file outgrew that a mapping still holds; kept in step with `block`.
        private var retiredBlocks: [WeakBlock] = []
        private(set) var size: Int
        /// The bytes as of the last sync.
        var durable: ByteImage
        var pending: [PendingChange] = []
        /// Names in the current tree (0 after remove; 2 only after a half-synced rename crash).
        var linkCount = 0

        /// A file whose current bytes are `durable`'s, nothing pending.
        init(durable: ByteImage = ByteImage()) {
            block = ContentBlock(capacity: Self.roundedToPage(durable.count))
            block.pointer.copyMemory(from: durable.pointer, byteCount: durable.count)
            size = durable.count
            self.durable = durable
        }

        var currentBytes: [UInt8] { ByteImage.array(of: UnsafeRawBufferPointer(start: block.pointer, count: size)) }

        /// Grows the block to hold `required` bytes, retiring (not freeing) the old one.
        func reserveCapacity(_ required: Int) {
            guard required > block.capacity else { return }
            let grown = ContentBlock(capacity: Self.roundedToPage(max(required, block.capacity * 2)))
            grown.pointer.copyMemory(from: block.pointer, byteCount: size)
            retiredBlocks.removeAll { $0.block == nil }
            retiredBlocks.append(WeakBlock(block: block))
            block = grown
        }

        /// Copies `bytes` to `offset`, growing the file if they end past it.
        func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
            guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
            reserveCapacity(offset + bytes.count)
            forEachBlock { target in
                let count = min(bytes.count, target.capacity - offset)
                if count > 0 { (target.pointer + offset).copyMemory(from: source, byteCount: count) }
            }
            size = max(size, offset + bytes.count)
        }

        /// Sets the size; bytes past a shrunk end are zeroed so that regrowth reads zeros.
        func resize(to newSize: Int) {
            if newSize < size {
                forEachBlock { target in
                    let end = min(size, target.capacity)
                    if end > newSize { (target.pointer + newSize).initializeMemory(as: UInt8.self, repeating: 0, count: end - newSize) }
                }
            } else {
                reserveCapacity(newSize)
            }
            size = newSize
        }

        private func forEachBlock(_ body: (ContentBlock) -> Void) {
            body(block)
            for retired in retiredBlocks {
                if let mapped = retired.block { body(mapped) }
            }
        }

        /// What a crash leaves of this file (steps 2 and 3 of the crash model).
        func crashImage(random: inout SeededRandom, tearing: Bool) -> ByteImage {
            let content = durable.copy()
            guard tearing, !pending.isEmpty else { return content }
            let appliedCount = random.nextInt(below: pending.count + 1)
            for change in pending[..<appliedCount] { change.apply(to: content) }
            guard appliedCount < pending.count else { return content }
            if case .write(let offset, let bytes) = pending[appliedCount] {
                let tornCount = random.nextInt(below: bytes.count)
                bytes[..<tornCount].withUnsafeBytes { content.write($0, at: offset) }
            }
            let later = pending[(appliedCount + 1)...]
            if !later.isEmpty, random.nextInt(below: SimulatedFileSystem.crashReorderOdds) == 0 {
                Self.persistPagesOutOfOrder(of: later, into: content, random: &random)
            }
            return content
        }

        /// Each page of each later write persists with probability 1/2, never past the end.
        private static func persistPagesOutOfOrder(
            of changes: ArraySlice<PendingChange>, into content: ByteImage, random: inout SeededRandom
        ) {
            let pageBytes = SimulatedFileSystem.crashPageBytes
            let length = content.count
            for case .write(let offset, let bytes) in changes {
                let end = min(offset + bytes.count, length)
                var pageStart = offset / pageBytes * pageBytes
                while pageStart < end {
                    let lower = max(pageStart, offset)
                    let upper = min(pageStart + pageBytes, end)
                    if random.next() & 1 == 1, lower < upper {
                        bytes[(lower - offset)..<(upper - offset)].withUnsafeBytes { content.write($0, at: lower) }
                    }
                    pageStart += pageBytes
                }
            }
        }

        private static func roundedToPage(_ count: Int) -> Int {
            let pageBytes = SimulatedFileSystem.crashPageBytes
            return (count + pageBytes - 1) / pageBytes * pageBytes
        }
    }

    /// An open file: forwards to the file system, which holds the lock.
    fileprivate final class SimulatedFile: StorageFile, @unchecked Sendable {
        let fileSystem: SimulatedFileSystem
        let node: FileNode
        let path: String
        let isWritable: Bool
        private let isClosed = Atomic<Bool>(false)

        init(fileSystem: SimulatedFileSystem, node: FileNode, path: String, isWritable: Bool) {
            self.fileSystem = fileSystem
            self.node = node
            self.path = path
            self.isWritable = isWritable
        }

        private func requireOpen(_ call: String, writable: Bool = false, notWritableErrno: Int32 = EBADF) throws(SystemError) {
            if isClosed.load(ordering: .acquiring) { throw SystemError(call: call, path: path, errno: Errno(rawValue: EBADF)) }
            if writable && !isWritable { throw SystemError(call: call, path: path, errno: Errno(rawValue: notWritableErrno)) }
        }

        func size() throws(SystemError) -> Int64 {
            try requireOpen("fstat")
            return fileSystem.size(of: node)
        }

        func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemError) -> Int {
            try requireOpen("pread")
            return try fileSystem.read(node, path: path, into: buffer, at: offset)
        }

        func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(SystemError) {
            try requireOpen("pwrite", writable: true)
            try fileSystem.write(node, path: path, bytes, at: offset)
        }

        func sync() throws(SystemError) {
            try requireOpen("fdatasync")
            try fileSystem.sync(node, path: path)
        }

        func truncate(to size: Int64) throws(SystemError) {
            try requireOpen("ftruncate", writable: true, notWritableErrno: EINVAL)
            try fileSystem.truncate(node, path: path, to: size)
        }

        func allocate(to size: Int64) throws(SystemError) {
            try requireOpen("fallocate", writable: true)
            try fileSystem.allocate(node, path: path, to: size)
        }

        func map(length: Int) throws(SystemError) -> MappedRegion {
            try requireOpen("mmap")
            return try fileSystem.map(node, path: path, length: length)
        }

        func close() { isClosed.store(true, ordering: .releasing) }
    }

    /// A held in-memory lock; `unlock()` is idempotent.
    fileprivate final class SimulatedFileLock: FileLock, @unchecked Sendable {
        let fileSystem: SimulatedFileSystem
        let node: FileNode

        init(fileSystem: SimulatedFileSystem, node: FileNode) {
            self.fileSystem = fileSystem
            self.node = node
        }

        func unlock() { fileSystem.unlock(node) }
    }
}

// MARK: - SeededRandom

/// SplitMix64: a tiny, fast, seedable generator, so randomized tests replay from a printed seed
/// (the standard library's generator cannot be seeded). Not for cryptography.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    /// The generator's whole state; a copy continues the same sequence.
    public private(set) var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A number in 0..<bound (bound > 0) by multiply-high, the same on every toolchain (unlike
    /// `Int.random(in:using:)`, whose algorithm the standard library may change).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound")
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}
