/// The readable output of `seqbox-bench e2e`: one markdown table with every figure of every
/// engine and the Seqbox/Redis ratios, each engine's sweep, and the targets.
enum E2EReport {
    /// One figure of the table: how to read it from an engine's results.
    struct Row {
        var section: String
        var name: String
        /// Whether a Seqbox/Redis ratio means something (not for counts).
        var ratio = true
        var value: (E2EEngineResult) -> Double?
    }

    static func rows(_ config: E2EConfig) -> [Row] {
        let fixed = "at \(Format.number(config.rate)) msgs/s"
        func ms(_ value: Double?) -> Double? { value.map { $0 / 1000 } }
        func mb(_ value: Int?) -> Double? { value.map { Double($0) / 1_048_576 } }
        func latency(_ section: String, _ label: String, _ pick: @escaping (E2EPhaseResult) -> LatencySummary?, phase: @escaping (E2EEngineResult) -> E2EPhaseResult?) -> [Row] {
            [("p50", \LatencySummary.p50Us), ("p90", \.p90Us), ("p99", \.p99Us), ("p99.9", \.p999Us), ("max", \.maxUs)].map { quantile, path in
                Row(section: section, name: "\(label) \(quantile) ms") { ms(phase($0).flatMap(pick).map { $0[keyPath: path] }) }
            }
        }
        let fixedPhase: (E2EEngineResult) -> E2EPhaseResult? = { $0.fixedRate }
        var rows: [Row] = [
            Row(section: fixed, name: "achieved msgs/s") { $0.fixedRate?.achievedRate },
        ]
        rows += latency(fixed, "send→SEND_OK / XADD reply", { $0.acknowledgement }, phase: fixedPhase)
        rows += latency(fixed, "send→NOTIFY", { $0.notification }, phase: fixedPhase)
        rows += latency(fixed, "send→delivered (PULL_OK / XREAD)", { $0.delivery }, phase: fixedPhase)
        rows += [
            Row(section: fixed, name: "server CPU, cores") { $0.fixedRate?.serverCores },
            Row(section: fixed, name: "load generator CPU, cores") { $0.fixedRate?.generatorCores },
            Row(section: fixed, name: "server CPU per message, µs") { $0.fixedRate?.serverMicrosecondsPerMessage },
            Row(section: fixed, name: "generator CPU per message, µs") { $0.fixedRate?.generatorMicrosecondsPerMessage },
            Row(section: fixed, name: "machine busy, cores") { $0.fixedRate?.machineBusyCores },
            Row(section: fixed, name: "of which other work, cores", ratio: false) { $0.fixedRate.map(\.otherCores) },
            Row(section: fixed, name: "server RSS MB") { mb($0.fixedRate?.serverResidentBytes) },
            Row(section: fixed, name: "generator send lag p99 ms") { ms($0.fixedRate?.sendLag.p99Us) },
            Row(section: fixed, name: "skipped + failed + anomalies", ratio: false) { $0.fixedRate.map { Double($0.counts.skipped + $0.counts.failed + $0.counts.anomalies) } },
        ]
        if config.sweep {
            let metric = config.sweepMetric == .ack ? "SEND_OK/XADD" : "delivered"
            let saturation = "saturation (p99 \(metric) ≤ \(Format.number(config.p99BoundMs)) ms)"
            let busiest: (E2EEngineResult) -> E2EPhaseResult? = { $0.sweepSteps.max { $0.achievedRate < $1.achievedRate } }
            rows += [
                Row(section: saturation, name: "highest offered msgs/s within bound") { $0.saturation?.rate },
                Row(section: saturation, name: "achieved msgs/s there (durable)") { $0.saturation?.achievedRate },
                Row(section: saturation, name: "lowest offered msgs/s over bound") { $0.saturation?.failedRate },
                Row(section: saturation, name: "most msgs/s in any step") { $0.saturation?.maxAchievedRate },
                Row(section: saturation, name: "server CPU per message there, µs") { busiest($0)?.serverMicrosecondsPerMessage },
                Row(section: saturation, name: "generator CPU per message there, µs") { busiest($0)?.generatorMicrosecondsPerMessage },
            ]
            let half = "at half its saturation rate"
            let halfPhase: (E2EEngineResult) -> E2EPhaseResult? = { $0.halfSaturation }
            rows += [Row(section: half, name: "offered msgs/s") { $0.halfSaturation?.offeredRate }]
            rows += latency(half, "send→SEND_OK / XADD reply", { $0.acknowledgement }, phase: halfPhase).filter { $0.name.contains("p50") || $0.name.contains("p99 ") }
            rows += latency(half, "send→NOTIFY", { $0.notification }, phase: halfPhase).filter { $0.name.contains("p50") || $0.name.contains("p99 ") }
            rows += latency(half, "send→delivered", { $0.delivery }, phase: halfPhase).filter { $0.name.contains("p50") || $0.name.contains("p99 ") }
            rows += [
                Row(section: half, name: "server CPU, cores") { $0.halfSaturation?.serverCores },
                Row(section: half, name: "load generator CPU, cores") { $0.halfSaturation?.generatorCores },
            ]
        }
        if config.sweep && config.overloadRate > 0 {
            let overload = "overload: \(Format.number(config.overloadRate)) msgs/s offered"
            rows += [
                Row(section: overload, name: "achieved msgs/s (durable): capacity") { $0.overload?.achievedRate },
                Row(section: overload, name: "send→SEND_OK / XADD reply p50 ms") { ms($0.overload?.acknowledgement.p50Us) },
                Row(section: overload, name: "server CPU, cores") { $0.overload?.serverCores },
                Row(section: overload, name: "load generator CPU, cores") { $0.overload?.generatorCores },
                Row(section: overload, name: "of which other work, cores", ratio: false) { $0.overload.map(\.otherCores) },
                Row(section: overload, name: "server CPU per message, µs") { $0.overload?.serverMicrosecondsPerMessage },
                Row(section: overload, name: "generator CPU per message, µs") { $0.overload?.generatorMicrosecondsPerMessage },
                Row(section: overload, name: "sends skipped (sender backlog full)", ratio: false) { $0.overload.map { Double($0.counts.skipped) } },
            ]
        }
        let connections = "\(Format.grouped(config.connections)) connections"
        rows += [
            Row(section: connections, name: "server RSS per connection, B") { $0.memoryPerConnectionBytes },
            Row(section: connections, name: "server RSS after connecting, MB") { mb($0.serverResidentAfterConnectBytes) },
            Row(section: connections, name: "server peak RSS, MB") { mb($0.serverPeakResidentBytes) },
            Row(section: connections, name: "connect + login, s") { $0.connectSeconds },
        ]
        return rows
    }

    static func render(_ output: E2EOutput) -> String {
        let config = output.config
        let engines = output.engines
        var text = "\n## End to end: seqbox-bench e2e\n\n"
        text += "Command: `\(output.command)`\n"
        let machine = output.machine
        text += "Machine: \(machine.cpuModel), \(machine.cores) cores, \(machine.memoryBytes >> 30) GiB, \(machine.kernel); "
        text += "data on \(machine.fileSystem); load average at start \(machine.loadAverage), at end \(output.loadAverageAtEnd)\n"
        text += "Workload: \(Format.grouped(config.connections)) connections (\(Format.grouped(config.pairs)) senders, each to its own online recipient), "
        text += "\(config.payloadBytes)-byte text payloads, seed \(config.seed), \(config.threads) load thread\(config.threads == 1 ? "" : "s"); "
        text += "open-loop, latencies from the scheduled send time"
        text += config.quick ? " (--quick: small scale, figures not comparable with the targets)\n" : "\n"
        for engine in engines {
            text += "- \(engine.engine.title): `\(engine.serverCommand)`" + (engine.serverVersion.map { " (Redis \($0))" } ?? "") + "\n"
        }
        text += "\n" + table(engines, rows: rows(config)) + "\n"
        if engines.contains(where: { $0.engine == .seqbox }) && engines.count > 1 {
            text += "\nRatios are Seqbox ÷ the other engine: above 1 for throughput is better for Seqbox, below 1 for latency, CPU and memory is better for Seqbox.\n"
        }
        for engine in engines {
            if let nodes = engine.storageNodesCPUSeconds {
                text += "\n\(engine.engine.title): server figures are the gateway's; the storage nodes used "
                    + nodes.map { Format.number($0) + " s" }.joined(separator: " and ") + " of CPU over the whole run.\n"
            }
        }
        for engine in engines where !engine.sweepSteps.isEmpty {
            text += "\nSweep, \(engine.engine.title):\n\n" + sweepTable(engine) + "\n"
            if let note = engine.saturation?.note { text += "Note: \(note)\n" }
        }
        text += "\n" + ResultTable.renderTargets(output.targets) + "\n"
        for engine in engines where !engine.errors.isEmpty {
            text += "\nERRORS, \(engine.engine.title): " + engine.errors.joined(separator: "; ") + "\n"
        }
        text += "\nTotal time: \(Format.number(output.seconds)) s\n"
        return text
    }

    static func table(_ engines: [E2EEngineResult], rows: [Row]) -> String {
        let seqbox = engines.firstIndex { $0.engine == .seqbox }
        let others = engines.indices.filter { engines[$0].engine != .seqbox }
        var header = ["Phase", "Figure"] + engines.map(\.engine.title)
        if seqbox != nil { header += others.map { "Seqbox/\(engines[$0].engine.title)" } }
        var lines = [header]
        var lastSection = ""
        for row in rows {
            let values = engines.map(row.value)
            if values.allSatisfy({ $0 == nil }) { continue }
            var line = [row.section == lastSection ? "" : row.section, row.name] + values.map { $0.map(Format.number) ?? "—" }
            lastSection = row.section
            if let seqbox {
                line += others.map { other in
                    guard row.ratio, let ours = values[seqbox], let theirs = values[other], theirs != 0 else { return "—" }
                    return Format.ratio(ours / theirs)
                }
            }
            lines.append(line)
        }
        return ResultTable.markdown(lines, rightAligned: Set(2 ..< header.count))
    }

    static func sweepTable(_ engine: E2EEngineResult) -> String {
        var lines = [["Step", "Offered msgs/s", "Achieved msgs/s", "p99 ack ms", "p99 notify ms", "p99 delivered ms",
                      "server cores", "generator cores", "other work cores", "skipped", "Within bound"]]
        for step in engine.sweepSteps {
            lines.append([step.name, Format.number(step.offeredRate), Format.number(step.achievedRate),
                          Format.number(step.acknowledgement.p99Us / 1000), step.notification.map { Format.number($0.p99Us / 1000) } ?? "—",
                          Format.number(step.delivery.p99Us / 1000), step.serverCores.map(Format.number) ?? "—",
                          Format.number(step.generatorCores), Format.number(step.otherCores), Format.grouped(step.counts.skipped),
                          step.withinBound.map { $0 ? "yes" : "no" } ?? "—"])
        }
        return ResultTable.markdown(lines, rightAligned: Set(1 ..< 10))
    }
}
