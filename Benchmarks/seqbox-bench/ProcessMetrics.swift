#if canImport(Glibc)
import Glibc
#endif

/// Memory figures of the current process, read from /proc/self/status.
enum ProcessMetrics {
    /// Peak resident set size (VmHWM), in bytes.
    static func peakResidentBytes() -> Int { statusField("VmHWM:") }

    /// Current resident set size (VmRSS), in bytes: anonymous memory plus the pages of
    /// mapped files (a store's mapped segments) that are in memory.
    static func residentBytes() -> Int { statusField("VmRSS:") }

    /// The anonymous part of the resident set (RssAnon): heap and stacks, not file pages.
    static func anonymousResidentBytes() -> Int { statusField("RssAnon:") }

    /// The value of a "Name:   N kB" line of /proc/self/status, in bytes (0 when absent).
    private static func statusField(_ name: String) -> Int { ProcessStat.statusField(process: "self", name) ?? 0 }

    /// The path of the running executable.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0 ..< count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Reads a whole (small) text file; nil when it cannot be opened.
func readTextFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        bytes.append(contentsOf: chunk[0 ..< count])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Writes `text` to a file, replacing it. Returns false on failure.
@discardableResult
func writeTextFile(_ path: String, _ text: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let count = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { return false }
        offset += count
    }
    return true
}

/// Writes a line to standard error.
func printError(_ text: String) {
    let line = text + "\n"
    _ = line.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
}
