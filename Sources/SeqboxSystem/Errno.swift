#if canImport(Glibc)
import Glibc
#endif
import CSeqboxShim

/// A POSIX error number, read immediately after the failing call.
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    public static var current: Errno { Errno(rawValue: shim_errno()) }

    public static let interrupted = Errno(rawValue: EINTR)
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    public static let noSpace = Errno(rawValue: ENOSPC)
    public static let quotaExceeded = Errno(rawValue: EDQUOT)
    public static let noEntry = Errno(rawValue: ENOENT)
    public static let exists = Errno(rawValue: EEXIST)
    public static let io = Errno(rawValue: EIO)
    public static let notSupported = Errno(rawValue: EOPNOTSUPP)

    /// True for the errors that mean "the disk is full".
    public var isDiskFull: Bool { self == .noSpace || self == .quotaExceeded }

    public var description: String {
        guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
        return String(cString: text)
    }
}

/// A failed system call: which call, on what, and the errno it returned.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let path: String?
    public let errno: Errno

    public init(call: String, path: String? = nil, errno: Errno) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    public var description: String {
        if let path { return "\(call)(\(path)): \(errno)" }
        return "\(call): \(errno)"
    }
}

/// Runs a system call, retrying on `EINTR`, and throws a `SystemError` carrying `errno`
/// when it returns -1. The one place that turns C error conventions into Swift errors.
@inline(__always)
public func retryingSyscall<Result: BinaryInteger>(
    _ call: String, path: String? = nil, _ body: () -> Result
) throws(SystemError) -> Result {
    while true {
        let result = body()
        if result != -1 { return result }
        let error = Errno.current
        if error == .interrupted { continue }
        throw SystemError(call: call, path: path, errno: error)
    }
}
