/// The rate sweep: from `sweepStart`, double the offered rate while each step stays within the
/// bound, then bisect between the last good and the first bad rate `bisectSteps` times (if
/// the first step is already bad, halve until one is good). At most `sweepStepsMax` steps of
/// `sweepSeconds` each, each followed by a bounded drain; a step that does not drain ends the
/// sweep, since its backlog would load the next one.
enum E2ESweep {
    /// Rates are rounded to this many msgs/s.
    static let rateGranularity = 100.0
    /// A step must acknowledge at least this fraction of the offered rate within its window.
    static let achievedFractionMin = 0.95

    /// Whether a step counts as sustained: everything sent, answered without errors,
    /// delivered in order, the offered rate achieved, and the p99 of `metric` within the bound.
    static func passes(_ step: E2EPhaseResult, config: E2EConfig) -> Bool {
        step.settled && step.counts.skipped == 0 && step.counts.failed == 0 && step.counts.anomalies == 0
            && step.achievedRate >= achievedFractionMin * step.offeredRate
            && step.p99Us(config.sweepMetric) <= config.p99BoundMs * 1000
    }

    static func run(config: E2EConfig, step runStep: (_ rate: Double, _ name: String) throws -> E2EPhaseResult) throws
        -> (steps: [E2EPhaseResult], saturation: E2ESaturation) {
        var steps: [E2EPhaseResult] = []
        var good: (rate: Double, achieved: Double)?
        var bad: Double?
        var bisections = 0
        var note: String?
        var rate = rounded(config.sweepStart)
        while steps.count < config.sweepStepsMax && rate <= config.sweepMax && rate >= rateGranularity {
            var step = try runStep(rate, "sweep-\(steps.count + 1)")
            let passed = passes(step, config: config)
            step.withinBound = passed
            steps.append(step)
            if passed {
                if rate > good?.rate ?? 0 { good = (rate, step.achievedRate) }
            } else {
                bad = min(bad ?? rate, rate)
            }
            if !step.settled {
                note = "the step at \(Format.number(rate)) msgs/s did not drain within \(Format.number(config.drainSeconds)) s; sweep ended"
                break
            }
            if bad == nil {
                rate = rounded(rate * 2)
            } else if let good, let bad {
                guard bisections < config.bisectSteps else { break }
                bisections += 1
                let middle = rounded((good.rate + bad) / 2)
                guard middle > good.rate, middle < bad else { break }
                rate = middle
            } else {
                rate = rounded(rate / 2)
            }
        }
        let saturation = E2ESaturation(metric: config.sweepMetric, p99BoundMs: config.p99BoundMs, rate: good?.rate,
                                       achievedRate: good?.achieved, failedRate: bad,
                                       maxAchievedRate: steps.map(\.achievedRate).max() ?? 0, note: note)
        return (steps, saturation)
    }

    static func rounded(_ rate: Double) -> Double { (rate / rateGranularity).rounded() * rateGranularity }
}
