#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A running `seqbox-stress` child process: its stdout and stderr are read on background
/// threads (so a full pipe never blocks it), and it can be killed with SIGKILL at any moment.
final class StressChild: @unchecked Sendable {
    /// How long to wait for a killed child's pipes to reach end of file.
    static let drainTimeoutSeconds: TimeInterval = 10

    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private let lock = NSLock()
    private var stdoutBytes = Data()
    private var stderrBytes = Data()
    private let drained = DispatchGroup()

    /// The `seqbox-stress` executable built next to the test bundle, or nil.
    static func locateExecutable() -> (url: URL?, searched: [String]) {
        var directories = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
                           URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }
        let candidates = directories.map { $0.appendingPathComponent("seqbox-stress") }
        let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return (found, candidates.map(\.path))
    }

    init(executable: URL, arguments: [String]) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        drain(output.fileHandleForReading) { [unowned self] data in lock.withLock { stdoutBytes.append(data) } }
        drain(errors.fileHandleForReading) { [unowned self] data in lock.withLock { stderrBytes.append(data) } }
    }

    private func drain(_ handle: FileHandle, into sink: @escaping @Sendable (Data) -> Void) {
        drained.enter()
        let group = drained
        Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                sink(data)
            }
            group.leave()
        }.start()
    }

    var processIdentifier: pid_t { process.processIdentifier }

    /// SIGKILL, then waits for the exit and for both pipes to drain. Safe to call twice.
    /// False when the pipes did not reach end of file in time.
    @discardableResult
    func killAndWait() -> Bool {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return drained.wait(timeout: .now() + Self.drainTimeoutSeconds) == .success
    }

    /// True when the child died of SIGKILL (rather than exiting by itself).
    var wasKilled: Bool {
        process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
    }

    /// Complete lines the child printed on stdout (a line cut by the kill is left out).
    var completeOutputLines: [Substring] {
        let text = lock.withLock { String(decoding: stdoutBytes, as: UTF8.self) }
        guard let lastNewline = text.lastIndex(of: "\n") else { return [] }
        return text[...lastNewline].split(separator: "\n")
    }

    var standardError: String { lock.withLock { String(decoding: stderrBytes, as: UTF8.self) } }
}
