#if canImport(Glibc)
import Glibc
#endif

/// A server process the benchmark starts (seqboxd, redis-server): posix_spawn with its own
/// environment, stdout and stderr appended to a log file, and stopped by PID: SIGTERM, then
/// SIGKILL if it has not exited in time. If the benchmark itself gets SIGTERM or SIGINT, its
/// handler forwards SIGTERM to every server still running before exiting.
final class ServiceProcess {
    let name: String
    let pid: pid_t
    let logPath: String
    private var exitStatus: Int32?

    init(name: String, executable: String, arguments: [String], environment: [String: String]?, logPath: String) throws {
        self.name = name
        self.logPath = logPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO)

        let argv = ([executable] + arguments).map { strdup($0) }
        defer { for pointer in argv { free(pointer) } }
        var cArguments = argv + [nil]
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } }
        defer { envp?.forEach { free($0) } }
        var cEnvironment = envp.map { $0 + [nil] }
        var child = pid_t()
        let status: Int32
        if cEnvironment != nil {
            status = posix_spawn(&child, executable, &actions, nil, &cArguments, &cEnvironment!)
        } else {
            status = posix_spawn(&child, executable, &actions, nil, &cArguments, environ)
        }
        guard status == 0 else { throw BenchError("cannot start \(executable): \(String(cString: strerror(status)))") }
        pid = child
        SpawnedProcesses.register(child)
    }

    deinit { stop() }

    /// Whether it is still running (reaps it if it exited).
    var isRunning: Bool {
        guard exitStatus == nil else { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            exitStatus = status
            SpawnedProcesses.unregister(pid)
            return false
        }
        return result == 0
    }

    /// SIGTERM, up to `gracefulSeconds` to exit, then SIGKILL; reaps it. Returns whether it
    /// exited on SIGTERM.
    @discardableResult
    func stop(gracefulSeconds: Double = 15) -> Bool {
        guard isRunning else { return true }
        kill(pid, SIGTERM)
        let deadline = Clock.nanoseconds() + UInt64(gracefulSeconds * 1e9)
        while Clock.nanoseconds() < deadline {
            if !isRunning { return true }
            Clock.sleep(seconds: 0.01)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        exitStatus = status
        SpawnedProcesses.unregister(pid)
        return false
    }

    /// The last lines of its log, for error messages.
    func logTail(lines: Int = 15) -> String {
        (readTextFile(logPath) ?? "").split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// The absolute path of `program` on PATH, or nil.
    static func findOnPath(_ program: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":").map(String.init) {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

/// The PIDs of running servers, readable from a signal handler (a fixed array, no locks:
/// registration happens on the driving thread only).
enum SpawnedProcesses {
    static let capacity = 16
    nonisolated(unsafe) private static let pids: UnsafeMutablePointer<pid_t> = {
        let pointer = UnsafeMutablePointer<pid_t>.allocate(capacity: capacity + 1)
        pointer.initialize(repeating: 0, count: capacity + 1)
        return pointer
    }()

    static func register(_ pid: pid_t) {
        for index in 0 ..< capacity where pids[index] == 0 {
            pids[index] = pid
            return
        }
    }

    static func unregister(_ pid: pid_t) {
        for index in 0 ..< capacity where pids[index] == pid { pids[index] = 0 }
    }

    /// Whether SIGTERM or SIGINT arrived (the driving thread then stops the run and cleans up).
    static var interrupted: Bool { pids[capacity] != 0 }

    /// On SIGTERM or SIGINT: SIGTERM every registered server at once and flag the run as
    /// interrupted, so it unwinds, stops its threads and removes its data; a second signal
    /// exits immediately (status 128 + signal). SIGPIPE is ignored.
    static func installSignalForwarding() {
        _ = pids
        let handler: @convention(c) (Int32) -> Void = { signal in
            if SpawnedProcesses.pids[SpawnedProcesses.capacity] != 0 { _exit(128 + signal) }
            SpawnedProcesses.pids[SpawnedProcesses.capacity] = signal
            for index in 0 ..< SpawnedProcesses.capacity where SpawnedProcesses.pids[index] != 0 {
                kill(SpawnedProcesses.pids[index], SIGTERM)
            }
        }
        signal(SIGTERM, handler)
        signal(SIGINT, handler)
        // A closed stdout or stderr (a pipe into `head`) must not kill the run before it
        // stops its servers: writes then just fail.
        signal(SIGPIPE, SIG_IGN)
    }
}
