#if canImport(Glibc)
import Glibc
#endif

/// `seqbox-bench store`: runs every scenario for Seqbox and SQLite, each case in fresh child
/// processes, engines interleaved case by case, and collects their reports.
final class StoreBenchmark {
    let config: StoreBenchmarkConfig
    private let executable = ProcessMetrics.executablePath()
    private(set) var results: [CaseResult] = []
    private var progress = 0

    init(config: StoreBenchmarkConfig) { self.config = config }

    static let durableForms: [AppendForm] = [.blocking(threads: 1), .blocking(threads: 8), .blocking(threads: 64),
                                             .asynchronous(window: 64), .asynchronous(window: 1024)]
    static let nonDurableForms: [AppendForm] = [.blocking(threads: 1), .batches(size: 64), .asynchronous(window: 1024)]
    static let readCases: [(form: ReadForm, threads: Int)] = [(.borrowed, 1), (.borrowed, 2), (.copied, 1), (.copied, 2)]
    /// Free disk the scale case needs per message and engine, with margin (a message takes
    /// about 280 bytes in Seqbox's log, 200 in SQLite's database, plus WAL and checkpoints).
    static let diskBytesPerLargeMessage = 700

    func run() throws {
        try FileTree.createDirectory(config.directory)
        defer { if !config.keepData { FileTree.remove(config.directory) } }
        if config.runs("append-sync") {
            for form in Self.durableForms { try appendCase(group: "append-sync", form: form) }
        }
        if config.runs("append-none") {
            for form in Self.nonDurableForms { try appendCase(group: "append-none", form: form) }
        }
        if config.runs("read") || config.runs("open") {
            try dataSetCases(group: "dataset", users: config.users, messages: config.messages,
                             opens: config.runs("open"), reads: config.runs("read"))
        }
        if config.runs("open-large") {
            let needed = config.largeMessages * Self.diskBytesPerLargeMessage * config.engines.count
            let available = availableBytes(config.directory)
            if available < needed {
                var skipped = CaseResult(id: "open-large/skipped", title: "open, \(Format.count(config.largeMessages)) messages", kind: .open)
                skipped.errors.append("skipped: needs about \(needed >> 20) MB free, \(available >> 20) MB available")
                results.append(skipped)
            } else {
                try dataSetCases(group: "open-large", users: config.largeUsers, messages: config.largeMessages, opens: true, reads: false)
            }
        }
    }

    var failed: Bool { results.contains { !$0.errors.isEmpty && !$0.id.hasSuffix("skipped") } }

    // MARK: Cases

    private func appendCase(group: String, form: AppendForm) throws {
        let durable = group == "append-sync"
        let key: String
        switch form {
        case .blocking(let threads): key = "blocking-\(threads)"
        case .asynchronous(let window): key = "async-\(window)"
        case .batches(let size): key = "batch-\(size)"
        }
        let mode = durable ? "sync append" : "none append"
        var result = CaseResult(id: "\(group)/\(key)", title: "\(mode), \(form)", kind: {
            if case .batches = form { return .batchAppend }
            return .append
        }())
        let id = result.id
        measure(&result, repeats: config.repeats) { engine in
            let directory = caseDirectory(id, engine)
            defer { FileTree.remove(directory) }
            return try runChild(durable ? DurableAppendScenario.name : NonDurableAppendScenario.name, engine: engine,
                                directory: directory, users: config.users, seconds: config.appendSeconds,
                                extra: form.childArguments)
        }
        record(result)
    }

    /// Populates one store per engine (the child is killed with SIGKILL when `opens`), then
    /// measures opens after the kill, after a clean shutdown (warm and cold page cache) and
    /// range reads, engines interleaved.
    private func dataSetCases(group: String, users: Int, messages: Int, opens: Bool, reads: Bool) throws {
        let scale = "\(Format.count(messages)) msgs/\(Format.count(users)) users"
        let directories = Dictionary(uniqueKeysWithValues: config.engines.map { ($0, caseDirectory(group, $0)) })
        defer { for directory in directories.values { FileTree.remove(directory) } }
        let dataSet: [(String, String)] = [("messages", "\(messages)")]

        var load = CaseResult(id: "\(group)/populate", title: "load \(scale)" + (opens ? ", then kill -9" : ""), kind: .populate)
        measure(&load, repeats: 1) { engine in
            try runChild(PopulateScenario.name, engine: engine, directory: directories[engine]!, users: users,
                         seconds: 0, extra: dataSet + [("finish", opens ? "hang" : "close")], killAfterReport: opens)
        }
        record(load)
        let loaded = config.engines.filter { load[$0] != nil }

        if opens {
            // The first open recovers from the kill and closes cleanly: it happens once.
            let steps: [(id: String, title: String, cold: Bool, repeats: Int)] = [
                ("open-after-kill", "open after kill -9, \(scale)", false, 1),
                ("open-clean-warm", "open after clean close, \(scale)", false, config.repeats),
                ("open-clean-cold", "open after clean close, cold cache, \(scale)", true, config.repeats),
            ]
            for step in steps {
                var result = CaseResult(id: "\(group)/\(step.id)", title: step.title, kind: .open)
                measure(&result, engines: loaded, repeats: step.repeats) { engine in
                    try runChild(OpenScenario.name, engine: engine, directory: directories[engine]!, users: users,
                                 seconds: 0, extra: [], flags: step.cold ? ["cold"] : [])
                }
                record(result)
            }
        }
        if reads {
            for (form, threads) in Self.readCases {
                let how = form == .borrowed ? "borrowed (visit)" : "copied (read)"
                var result = CaseResult(id: "read/\(form.rawValue)-\(threads)",
                                        title: "read \(RangeReadScenario.defaultLimit), \(how), \(threads) thread\(threads == 1 ? "" : "s"), \(scale)",
                                        kind: .read)
                measure(&result, engines: loaded, repeats: config.repeats) { engine in
                    try runChild(RangeReadScenario.name, engine: engine, directory: directories[engine]!, users: users,
                                 seconds: config.readSeconds, extra: [("form", form.rawValue), ("threads", "\(threads)")])
                }
                record(result)
            }
        }
    }

    // MARK: Children

    private func runChild(_ scenario: String, engine: EngineKind, directory: String, users: Int, seconds: Double,
                          extra: [(String, String)], flags: [String] = [], killAfterReport: Bool = false) throws -> ChildReport {
        let options: [(String, String)] = [
            ("engine", engine.rawValue), ("dir", directory), ("users", "\(users)"), ("seed", "\(config.seed)"),
            ("warmup", "\(config.warmUpSeconds)"), ("seconds", "\(seconds)"),
        ] + extra
        let child = try ChildProcess(executable: executable,
                                     arguments: ["store-child", scenario] + Arguments.render(options, flags: flags))
        let line = child.readLine()
        if killAfterReport {
            child.killHard()
        } else {
            let status = child.wait()
            guard status == 0 else { throw BenchError("\(scenario) child for \(engine.rawValue) exited with status \(status)") }
        }
        guard let line, !line.isEmpty else { throw BenchError("\(scenario) child for \(engine.rawValue) reported nothing") }
        return try ChildOutput.decode(line)
    }

    /// Runs the case `repeats` times for each engine, alternating which engine goes first,
    /// and keeps each engine's median run by the case's headline figure; the headline of
    /// every run is kept in `runs` to show the spread.
    private func measure(_ result: inout CaseResult, engines: [EngineKind]? = nil, repeats: Int,
                         _ run: (EngineKind) throws -> ChildReport) {
        let engines = engines ?? config.engines
        var runs: [EngineKind: [ChildReport]] = [:]
        for round in 0 ..< repeats {
            for engine in round % 2 == 0 ? engines : engines.reversed() {
                if let report = capture(&result, engine, { try run(engine) }) { runs[engine, default: []].append(report) }
            }
        }
        let headline = Figure.figures(for: result.kind)[0]
        for (engine, reports) in runs {
            let sorted = reports.sorted { (headline.value($0) ?? 0) < (headline.value($1) ?? 0) }
            var median = sorted[sorted.count / 2]
            median.runs = reports.map { headline.value($0) ?? 0 }
            result[engine] = median
        }
    }

    private func capture(_ result: inout CaseResult, _ engine: EngineKind, _ body: () throws -> ChildReport) -> ChildReport? {
        do {
            return try body()
        } catch {
            result.errors.append("\(engine.rawValue): \(error)")
            return nil
        }
    }

    private func record(_ result: CaseResult) {
        results.append(result)
        progress += 1
        var line = "[\(progress)] \(result.title):"
        for engine in config.engines {
            guard let report = result[engine] else { continue }
            let headline = Figure.figures(for: result.kind)[0]
            line += " \(engine.title) " + (headline.value(report).map(Format.number) ?? "—")
        }
        if !result.errors.isEmpty { line += " ERRORS: " + result.errors.joined(separator: "; ") }
        printError(line)
    }

    private func caseDirectory(_ id: String, _ engine: EngineKind) -> String {
        config.directory + "/" + id.replacingSlashes + "-" + engine.rawValue
    }

    private func availableBytes(_ path: String) -> Int {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }
}

extension String {
    var replacingSlashes: String { String(map { $0 == "/" ? "-" : $0 }) }
}
