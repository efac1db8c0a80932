#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// How much the server logs: each level includes the ones above it.
public enum ServerLogLevel: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case debug = 0
    case info = 1
    case warning = 2
    case error = 3

    public static func < (lhs: ServerLogLevel, rhs: ServerLogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Parses `debug`, `info`, `warning` (or `warn`), `error`.
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "debug": self = .debug
        case "info": self = .info
        case "warning", "warn": self = .warning
        case "error": self = .error
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        }
    }
}

/// The server's event log: one line per event worth knowing, as
/// `2026-01-01T00:00:00.123Z level=info event=listening address=127.0.0.1:7420`.
///
/// `event` is a stable word tools and tests can match on; the fields after it are `key=value`
/// pairs. Lines go to a file descriptor (standard error by default) with one `write` each, so
/// lines from different threads never interleave. Thread-safe.
public final class ServerLog: Sendable {
    /// The least severe level written.
    public let level: ServerLogLevel
    private let descriptor: Int32
    /// Lines written at `warning` or `error` (for tests and health reporting).
    private let problems = Atomic<Int>(0)

    public init(level: ServerLogLevel = .info, descriptor: Int32 = STDERR_FILENO) {
        self.level = level
        self.descriptor = descriptor
    }

    /// A log that writes nothing (unit tests).
    public static let silent = ServerLog(level: .error, descriptor: -1)

    /// Whether lines at `level` are written (skip building expensive fields otherwise).
    public func isEnabled(_ level: ServerLogLevel) -> Bool { level >= self.level && descriptor >= 0 }

    /// Lines at `warning` or above logged so far.
    public var problemCount: Int { problems.load(ordering: .relaxed) }

    public func debug(_ event: String, _ fields: @autoclosure () -> String = "") { log(.debug, event, fields()) }
    public func info(_ event: String, _ fields: @autoclosure () -> String = "") { log(.info, event, fields()) }
    public func warning(_ event: String, _ fields: @autoclosure () -> String = "") { log(.warning, event, fields()) }
    public func error(_ event: String, _ fields: @autoclosure () -> String = "") { log(.error, event, fields()) }

    /// Writes one line: timestamp, level, event, then `fields` (already `key=value` formatted).
    public func log(_ level: ServerLogLevel, _ event: String, _ fields: @autoclosure () -> String) {
        if level >= .warning { problems.add(1, ordering: .relaxed) }
        guard isEnabled(level) else { return }
        let detail = fields()
        var line = ServerLog.timestamp() + " level=\(level) event=\(event)"
        if !detail.isEmpty { line += " " + detail }
        line += "\n"
        let bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }

    /// UTC time as ISO 8601 with milliseconds.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let milliseconds = Int32(now.tv_nsec / 1_000_000)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(milliseconds, 3))Z"
    }
}
