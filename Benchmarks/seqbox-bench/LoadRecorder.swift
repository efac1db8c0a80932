/// One load thread's record of every phase: finds the phase a message belongs to by its
/// scheduled send time (which travels with the message: the Seqbox clientMessageID, a field of
/// the Redis entry) and counts it there. Owned by its thread.
final class LoadRecorder {
    private(set) var phases: [LoadPhase] = []
    private(set) var tallies: [PhaseTally] = []

    func begin(_ phase: LoadPhase) {
        precondition(phase.index == phases.count, "phases are recorded in order")
        precondition(phases.last.map { $0.endNs <= phase.startNs } ?? true, "phases do not overlap")
        phases.append(phase)
        tallies.append(PhaseTally())
    }

    /// The phase whose window holds `scheduled` (the newest first: where nearly every reply
    /// belongs).
    @inline(__always)
    func phase(of scheduled: UInt64) -> Int? {
        var index = phases.count - 1
        while index >= 0 {
            if scheduled >= phases[index].startNs { return scheduled < phases[index].endNs ? index : nil }
            index -= 1
        }
        return nil
    }

    func scheduled(phase: Int) { tallies[phase].counts.scheduled += 1 }
    func skipped(phase: Int) { tallies[phase].counts.skipped += 1 }

    func sent(phase: Int, lag: UInt64) {
        tallies[phase].counts.sent += 1
        tallies[phase].sendLag.record(lag)
    }

    func acknowledged(scheduled: UInt64, now: UInt64) {
        guard let phase = phase(of: scheduled) else { return }
        tallies[phase].counts.acknowledged += 1
        if now < phases[phase].endNs { tallies[phase].counts.acknowledgedInWindow += 1 }
        tallies[phase].acknowledgement.record(now &- scheduled)
    }

    func failed(scheduled: UInt64, code: Int, text: @autoclosure () -> String) {
        guard let phase = phase(of: scheduled) else { return }
        tallies[phase].counts.failed += 1
        tallies[phase].errorCodes[code, default: 0] += 1
        if tallies[phase].errorSamples.count < 5 { tallies[phase].errorSamples.append(text()) }
    }

    func notified(scheduled: UInt64, at time: UInt64, byReply: Bool) {
        guard let phase = phase(of: scheduled) else { return }
        if byReply { tallies[phase].counts.notifiedByReply += 1 } else { tallies[phase].counts.notified += 1 }
        tallies[phase].notification.record(time &- scheduled)
    }

    func delivered(scheduled: UInt64, now: UInt64) {
        guard let phase = phase(of: scheduled) else { return }
        tallies[phase].counts.delivered += 1
        tallies[phase].delivery.record(now &- scheduled)
    }

    /// A delivery that breaks the promise (out of order, duplicate, wrong sender).
    func anomaly(scheduled: UInt64) {
        let phase = phase(of: scheduled) ?? max(0, phases.count - 1)
        guard phase < tallies.count else { return }
        tallies[phase].counts.anomalies += 1
    }

    var allCounts: [PhaseCounts] { tallies.map(\.counts) }
}
