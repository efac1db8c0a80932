/// One measured phase of one engine, as reported (table and JSON).
struct E2EPhaseResult: Codable {
    var name: String
    var offeredRate: Double
    var seconds: Double
    var counts: PhaseCounts
    /// Acknowledged sends per second within the window.
    var achievedRate: Double
    /// Latencies from the scheduled send time.
    var acknowledgement: LatencySummary
    /// Seqbox only: send → NOTIFY (or PULL_OK newestSeq) at the recipient.
    var notification: LatencySummary?
    var delivery: LatencySummary
    /// The load generator's own lateness: scheduled → written.
    var sendLag: LatencySummary
    var errorCodes: [String: Int]
    var errorSamples: [String]
    var settled: Bool
    var drainSeconds: Double
    var serverCores: Double?
    var generatorCores: Double
    var machineBusyCores: Double
    var serverResidentBytes: Int?
    /// Sweep steps: whether the step stayed within the bound (see `E2ESweep.passes`).
    var withinBound: Bool?

    init(_ outcome: PhaseOutcome, hasNotifications: Bool) {
        let tally = outcome.tally
        name = outcome.phase.name
        offeredRate = outcome.phase.ratePerSecond
        seconds = outcome.phase.seconds
        counts = tally.counts
        achievedRate = Double(tally.counts.acknowledgedInWindow) / outcome.phase.seconds
        acknowledgement = tally.acknowledgement.summary
        notification = hasNotifications ? tally.notification.summary : nil
        delivery = tally.delivery.summary
        sendLag = tally.sendLag.summary
        errorCodes = Dictionary(uniqueKeysWithValues: tally.errorCodes.map { ("\($0.key)", $0.value) })
        errorSamples = tally.errorSamples
        settled = outcome.settled
        drainSeconds = outcome.drainSeconds
        serverCores = outcome.serverCores
        generatorCores = outcome.generatorCores
        machineBusyCores = outcome.machineCores
        serverResidentBytes = outcome.serverResidentBytes
    }

    /// Cores other processes took during the window (noise on a shared machine).
    var otherCores: Double { max(0, machineBusyCores - (serverCores ?? 0) - generatorCores) }

    /// Server CPU per acknowledged message, in microseconds.
    var serverMicrosecondsPerMessage: Double? {
        guard let serverCores, achievedRate > 0 else { return nil }
        return serverCores * 1e6 / achievedRate
    }

    /// Load-generator CPU per acknowledged message, in microseconds.
    var generatorMicrosecondsPerMessage: Double? { achievedRate > 0 ? generatorCores * 1e6 / achievedRate : nil }

    /// The p99 the sweep judges, in microseconds.
    func p99Us(_ metric: SweepMetric) -> Double {
        metric == .ack ? acknowledgement.p99Us : delivery.p99Us
    }

    /// One line for the progress log.
    var progressLine: String {
        var line = "\(name) \(Format.number(offeredRate)) msgs/s offered: \(Format.number(achievedRate)) acked/s, "
        line += "p99 ack \(Format.number(acknowledgement.p99Us / 1000)) ms"
        if let notification { line += ", notify \(Format.number(notification.p99Us / 1000)) ms" }
        line += ", delivered \(Format.number(delivery.p99Us / 1000)) ms"
        line += "; server \(serverCores.map(Format.number) ?? "?") cores, generator \(Format.number(generatorCores)) cores, other work \(Format.number(otherCores))"
        if counts.skipped > 0 { line += "; skipped \(counts.skipped)" }
        if counts.failed > 0 { line += "; failed \(counts.failed) \(errorCodes)" }
        if counts.anomalies > 0 { line += "; ANOMALIES \(counts.anomalies)" }
        if !settled { line += "; not settled after \(Format.number(drainSeconds)) s" }
        if let withinBound { line += withinBound ? " [within bound]" : " [over bound]" }
        return line
    }
}

/// The sweep's answer: the highest offered rate within the bound.
struct E2ESaturation: Codable {
    var metric: SweepMetric
    var p99BoundMs: Double
    /// The highest offered rate that stayed within the bound (nil: none did).
    var rate: Double?
    /// Acknowledged msgs/s achieved at that rate.
    var achievedRate: Double?
    /// The lowest offered rate that did not (nil: none failed below --sweep-max).
    var failedRate: Double?
    /// The most acknowledged msgs/s any step achieved, bound or not.
    var maxAchievedRate: Double
    var note: String?
}

/// Everything measured for one engine.
struct E2EEngineResult: Codable {
    var engine: E2EEngine
    var serverCommand: String = ""
    var serverVersion: String?
    var connections: Int
    var connectSeconds: Double = 0
    var serverResidentBeforeConnectBytes: Int?
    var serverResidentAfterConnectBytes: Int?
    /// Server RSS delta from connecting everyone, per connection.
    var memoryPerConnectionBytes: Double?
    var fixedRate: E2EPhaseResult?
    var sweepSteps: [E2EPhaseResult] = []
    var saturation: E2ESaturation?
    var halfSaturation: E2EPhaseResult?
    /// Offered far above capacity: the achieved rate is the capacity.
    var overload: E2EPhaseResult?
    var serverPeakResidentBytes: Int?
    /// `seqbox-cluster` only: each storage node's CPU seconds over the whole run (the phases'
    /// server figures are the gateway's).
    var storageNodesCPUSeconds: [Double]?
    var errors: [String] = []

    init(engine: E2EEngine, connections: Int) {
        self.engine = engine
        self.connections = connections
    }
}
