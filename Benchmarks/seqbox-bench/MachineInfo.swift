#if canImport(Glibc)
import Glibc
#endif

/// The machine a run measured, for the report.
struct MachineInfo: Codable {
    var cpuModel: String
    var cores: Int
    var memoryBytes: Int
    var kernel: String
    /// The file system holding the stores: type and device, from /proc/mounts.
    var fileSystem: String
    var sqliteVersion: String
    /// /proc/loadavg when the run started (other work on the machine adds noise).
    var loadAverage: String

    static func current(directory: String) -> MachineInfo {
        let cpu = readTextFile("/proc/cpuinfo")?.split(separator: "\n")
            .first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingSpaces } ?? "unknown"
        let memoryKiB = readTextFile("/proc/meminfo")?.split(separator: "\n")
            .first { $0.hasPrefix("MemTotal:") }
            .map { Int(String($0.filter { $0.isNumber })) ?? 0 } ?? 0
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return MachineInfo(cpuModel: cpu, cores: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), memoryBytes: memoryKiB * 1024,
                           kernel: "Linux " + release, fileSystem: fileSystem(of: directory),
                           sqliteVersion: SQLiteConnection.libraryVersion, loadAverage: currentLoadAverage())
    }

    /// The 1, 5 and 15 minute load averages.
    static func currentLoadAverage() -> String {
        (readTextFile("/proc/loadavg") ?? "").split(separator: " ").prefix(3).joined(separator: " ")
    }

    /// "TYPE (DEVICE at MOUNT)" of the mount holding `path` (the longest matching mount point).
    static func fileSystem(of path: String) -> String {
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let absolute = realpath(path, &resolved) != nil
            ? String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : path
        var best: (mount: String, text: String) = ("", "unknown")
        for line in (readTextFile("/proc/mounts") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let mount = String(fields[1])
            let inside = absolute == mount || absolute.hasPrefix(mount == "/" ? "/" : mount + "/")
            if inside && mount.count >= best.mount.count {
                best = (mount, "\(fields[2]) (\(fields[0]) at \(mount))")
            }
        }
        return best.text
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
