#if canImport(Glibc)
import Glibc
#endif

/// Where a tool writes: standard output for results, standard error for diagnostics and
/// progress. A protocol so tests run the tools in-process and read what they printed.
public protocol ToolOutput: AnyObject {
    /// Appends `text` to standard output (buffered; `flush` writes it out).
    func write(_ text: String)
    /// Writes `text` to standard error at once.
    func writeError(_ text: String)
    /// True when standard error is a terminal (progress is shown by default only there).
    var errorIsTerminal: Bool { get }
    func flush()
}

/// The process's real standard output and error. Output is buffered in `bufferBytesMax`
/// chunks: listing a million records must not cost a million `write` calls.
public final class StandardStreams: ToolOutput {
    static let bufferBytesMax = 64 << 10
    private var buffer: [UInt8] = []

    public init() { buffer.reserveCapacity(Self.bufferBytesMax + 4096) }
    deinit { flush() }

    public func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.bufferBytesMax { flush() }
    }

    public func writeError(_ text: String) {
        flush()
        Self.writeAll(STDERR_FILENO, Array(text.utf8))
    }

    public var errorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    public func flush() {
        guard !buffer.isEmpty else { return }
        Self.writeAll(STDOUT_FILENO, buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// write(2) until every byte is out; a closed pipe (EPIPE) or another error drops the rest.
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                done += written
            }
        }
    }
}

/// Collects everything a tool printed, for tests.
public final class CapturedOutput: ToolOutput {
    public private(set) var standardOutput = ""
    public private(set) var standardError = ""
    public var errorIsTerminal = false

    public init() {}
    public func write(_ text: String) { standardOutput += text }
    public func writeError(_ text: String) { standardError += text }
    public func flush() {}
}
