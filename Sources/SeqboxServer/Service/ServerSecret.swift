#if canImport(Glibc)
import Glibc
#endif
import SeqboxSystem

/// The server's token secret: from the `SEQBOX_SECRET` environment variable (hex), or the file
/// `secret` in the data directory, created on first start from libcrypto's CSPRNG with mode
/// 0600 (owner read/write only) and synced before use.
public enum ServerSecret {
    /// The environment variable holding the secret as hex.
    public static let environmentVariable = "SEQBOX_SECRET"
    /// The secret file's name inside the data directory.
    public static let fileName = "secret"
    /// Bytes of a generated secret: 32 (256 bits, SHA-256's block-size-safe key length).
    public static let generatedSize = 32
    /// Largest secret file read, in bytes.
    static let fileSizeMax = 4096

    /// Where the secret came from (logged at start).
    public enum Source: Equatable, Sendable, CustomStringConvertible {
        case environment
        case existingFile(String)
        case createdFile(String)

        public var description: String {
            switch self {
            case .environment: "environment"
            case .existingFile(let path): "file:\(path)"
            case .createdFile(let path): "new-file:\(path)"
            }
        }
    }

    /// Errors loading or creating the secret.
    public enum LoadError: Error, CustomStringConvertible {
        case badHex(String)
        case tooShort(bytes: Int)
        case randomUnavailable
        case io(SystemError)
        /// The file exists but group or others can read it.
        case permissive(path: String, mode: UInt32)

        public var description: String {
            switch self {
            case .badHex(let origin): "\(origin) is not valid hex"
            case .tooShort(let bytes): "the secret has \(bytes) bytes; at least \(TokenAuthority.secretSizeMin) are needed"
            case .randomUnavailable: "libcrypto's random generator failed"
            case .io(let error): "\(error)"
            case .permissive(let path, let mode): "\(path) has mode \(String(mode, radix: 8)); it must not be readable by group or others (chmod 600)"
            }
        }
    }

    /// The secret: from `environment[SEQBOX_SECRET]` if set, else the data directory's file,
    /// created if missing (only when `create` is true).
    public static func load(
        dataDirectory: String, environment: [String: String], create: Bool = true
    ) throws(LoadError) -> (secret: [UInt8], source: Source) {
        if let text = environment[environmentVariable], !text.isEmpty {
            guard let bytes = decodeHex(text) else { throw .badHex(environmentVariable) }
            guard bytes.count >= TokenAuthority.secretSizeMin else { throw .tooShort(bytes: bytes.count) }
            return (bytes, .environment)
        }
        let path = dataDirectory + "/" + fileName
        if let existing = try readFile(path) {
            guard let bytes = decodeHex(existing) else { throw .badHex(path) }
            guard bytes.count >= TokenAuthority.secretSizeMin else { throw .tooShort(bytes: bytes.count) }
            return (bytes, .existingFile(path))
        }
        guard create else { throw .io(SystemError(call: "open", path: path, errno: Errno(rawValue: ENOENT))) }
        guard let bytes = HMACSHA256.randomBytes(count: generatedSize) else { throw .randomUnavailable }
        if try !createFile(path, contents: encodeHex(bytes) + "\n") {
            // Another process created it first: use theirs.
            return try load(dataDirectory: dataDirectory, environment: [:], create: false)
        }
        return (bytes, .createdFile(path))
    }

    /// The file's text, or nil when it does not exist; refuses a file readable by others.
    private static func readFile(_ path: String) throws(LoadError) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .io(SystemError(call: "open", path: path, errno: Errno(rawValue: errno)))
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .io(SystemError(call: "fstat", path: path, errno: Errno(rawValue: errno))) }
        guard status.st_mode & 0o077 == 0 else { throw .permissive(path: path, mode: UInt32(status.st_mode & 0o777)) }
        var buffer = [UInt8](repeating: 0, count: fileSizeMax)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else { throw .io(SystemError(call: "read", path: path, errno: Errno(rawValue: errno))) }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }

    /// Creates `path` with mode 0600 exclusively and syncs it and its directory; false if it
    /// already exists.
    private static func createFile(_ path: String, contents: String) throws(LoadError) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw .io(SystemError(call: "open", path: path, errno: Errno(rawValue: errno)))
        }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            let failure = errno
            unlink(path)
            throw .io(SystemError(call: "write", path: path, errno: Errno(rawValue: failure)))
        }
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        try? Directory.sync(directory.isEmpty ? "." : directory)
        return true
    }

    /// Lowercase hex of `bytes`.
    public static func encodeHex(_ bytes: [UInt8]) -> String { hex(bytes) }

    /// The bytes of hex `text` (surrounding whitespace ignored), or nil if it is not hex.
    public static func decodeHex(_ text: String) -> [UInt8]? {
        let trimmed = text.utf8.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        guard trimmed.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case 0x30 ... 0x39: digit - 0x30
            case 0x61 ... 0x66: digit - 0x61 + 10
            case 0x41 ... 0x46: digit - 0x41 + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(trimmed.count / 2)
        var index = 0
        while index < trimmed.count {
            guard let high = value(trimmed[index]), let low = value(trimmed[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
