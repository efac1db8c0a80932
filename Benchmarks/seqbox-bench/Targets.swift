/// The performance targets (BENCHMARKS.md), checked against a run's results.
struct TargetCheck: Codable {
    var target: String
    var measured: String
    /// nil when the run lacks the figures (scenario not run or failed).
    var met: Bool?

    static func evaluate(_ results: [CaseResult]) -> [TargetCheck] {
        func find(_ id: String) -> CaseResult? { results.first { $0.id == id } }
        var checks: [TargetCheck] = []

        func atLeast(_ target: String, _ id: String, _ minimum: Double, _ value: (ChildReport) -> Double, unit: String) {
            guard let report = find(id)?.seqbox else { return checks.append(TargetCheck(target: target, measured: "not measured", met: nil)) }
            let measured = value(report)
            checks.append(TargetCheck(target: target, measured: Format.number(measured) + unit, met: measured >= minimum))
        }
        func ratio(_ target: String, _ id: String, _ minimum: Double, _ value: (ChildReport) -> Double) {
            guard let found = find(id), let seqbox = found.seqbox, let sqlite = found.sqlite, value(sqlite) > 0 else {
                return checks.append(TargetCheck(target: target, measured: "not measured", met: nil))
            }
            let measured = value(seqbox) / value(sqlite)
            checks.append(TargetCheck(target: target, measured: Format.ratio(measured), met: measured >= minimum))
        }

        let msgs: (ChildReport) -> Double = { $0.messagesPerSecond }
        atLeast("durable appends, 64 appenders: ≥ 300,000 msgs/s", "append-sync/blocking-64", 300_000, msgs, unit: " msgs/s")
        ratio("durable appends, 64 appenders: ≥ 20× SQLite", "append-sync/blocking-64", 20, msgs)
        atLeast("durable appends, async 64 in flight: ≥ 300,000 msgs/s", "append-sync/async-64", 300_000, msgs, unit: " msgs/s")
        ratio("durable appends, async 64 in flight: ≥ 20× SQLite", "append-sync/async-64", 20, msgs)
        for threads in [1, 8, 64] {
            let id = "append-sync/blocking-\(threads)"
            guard let report = find(id)?.seqbox, let latency = report.latency else {
                checks.append(TargetCheck(target: "durable append p99 ≤ 2 ms, \(threads) appenders", measured: "not measured", met: nil))
                continue
            }
            checks.append(TargetCheck(target: "durable append p99 ≤ 2 ms, \(threads) appender\(threads == 1 ? "" : "s")",
                                      measured: Format.number(latency.p99Us) + " µs", met: latency.p99Us <= 2000))
        }
        atLeast("non-durable appends, 1 writer, async: ≥ 1,500,000 msgs/s", "append-none/async-1024", 1_500_000, msgs, unit: " msgs/s")
        atLeast("non-durable appends, 1 writer, blocking: ≥ 1,500,000 msgs/s", "append-none/blocking-1", 1_500_000, msgs, unit: " msgs/s")
        atLeast("non-durable appends, 1 writer, batches of 64: ≥ 1,500,000 msgs/s", "append-none/batch-64", 1_500_000, msgs, unit: " msgs/s")
        for form in ["borrowed", "copied"] {
            for threads in [1, 2] {
                let id = "read/\(form)-\(threads)"
                atLeast("range reads, \(form), \(threads) thread\(threads == 1 ? "" : "s"): ≥ 5,000,000 msgs/s", id, 5_000_000, msgs, unit: " msgs/s")
                ratio("range reads, \(form), \(threads) thread\(threads == 1 ? "" : "s"): ≥ 2× SQLite", id, 2, msgs)
            }
        }
        for (id, cache) in [("open-large/open-clean-warm", "warm"), ("open-large/open-clean-cold", "cold")] {
            let target = "open after clean shutdown, large store (\(cache) page cache): ≤ 1 s"
            if let open = find(id)?.seqbox?.openSeconds {
                checks.append(TargetCheck(target: target, measured: Format.number(open) + " s", met: open <= 1))
            } else {
                checks.append(TargetCheck(target: target, measured: "not measured", met: nil))
            }
        }
        if let report = find("open-large/open-clean-warm")?.seqbox, let resident = report.residentAfterOpenBytes {
            let megabytes = Double(resident) / 1_048_576
            checks.append(TargetCheck(target: "RSS after open, large store: ≤ 200 MB", measured: Format.number(megabytes) + " MB",
                                      met: megabytes <= 200))
        } else {
            checks.append(TargetCheck(target: "RSS after open, large store: ≤ 200 MB", measured: "not measured", met: nil))
        }
        return checks
    }
}
