#if canImport(Glibc)
import Glibc
#endif

/// CPU time and memory of any process, and busy time of the whole machine, from /proc.
enum ProcessStat {
    /// User + system CPU seconds of process `pid` (all its threads), from utime and stime in
    /// /proc/PID/stat (fields 14 and 15); nil if it is gone.
    static func cpuSeconds(pid: pid_t) -> Double? {
        guard let text = readTextFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        // After "(comm)": field 3 (state) is first, so utime and stime are at 11 and 12.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident set size (VmRSS) of `pid` in bytes.
    static func residentBytes(pid: pid_t) -> Int? { statusField(process: "\(pid)", "VmRSS:") }

    /// Peak resident set size (VmHWM) of `pid` in bytes.
    static func peakResidentBytes(pid: pid_t) -> Int? { statusField(process: "\(pid)", "VmHWM:") }

    /// The value of a "Name:   N kB" line of /proc/PROCESS/status (`process`: a PID or
    /// "self"), in bytes; nil when the process or the line is missing.
    static func statusField(process: String, _ name: String) -> Int? {
        guard let text = readTextFile("/proc/\(process)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            return Int(String(line.dropFirst(name.count).filter(\.isNumber))).map { $0 * 1024 }
        }
        return nil
    }

    /// Busy and total CPU time of the machine in clock ticks, from the first line of /proc/stat
    /// (busy: everything but idle and iowait).
    static func machineTicks() -> (busy: Double, total: Double) {
        guard let line = readTextFile("/proc/stat")?.split(separator: "\n").first else { return (0, 0) }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 5 else { return (0, 0) }
        let total = values.prefix(8).reduce(0, +)
        return (total - values[3] - values[4], total)
    }
}

/// CPU used over an interval by the server, this process (the load generator) and the whole
/// machine (the rest is other work on a shared machine).
struct CPUProbe {
    let serverPID: pid_t?
    private var startedAt: UInt64 = 0
    private var serverStart: Double?
    private var selfStart: Double = 0
    private var machineStart: (busy: Double, total: Double) = (0, 0)

    init(serverPID: pid_t?) { self.serverPID = serverPID }

    mutating func start() {
        startedAt = Clock.nanoseconds()
        serverStart = serverPID.flatMap { ProcessStat.cpuSeconds(pid: $0) }
        selfStart = ProcessStat.cpuSeconds(pid: getpid()) ?? 0
        machineStart = ProcessStat.machineTicks()
    }

    /// Cores busy since `start()` (CPU seconds per wall-clock second).
    func stop() -> (server: Double?, generator: Double, machine: Double) {
        let wall = max(1e-9, Clock.seconds(since: startedAt))
        let server = serverPID.flatMap { pid in serverStart.flatMap { start in ProcessStat.cpuSeconds(pid: pid).map { ($0 - start) / wall } } }
        let generator = ((ProcessStat.cpuSeconds(pid: getpid()) ?? 0) - selfStart) / wall
        let machineNow = ProcessStat.machineTicks()
        let cores = Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let ticks = machineNow.total - machineStart.total
        let machine = ticks > 0 ? (machineNow.busy - machineStart.busy) / ticks * cores : 0
        return (server, generator, machine)
    }
}
