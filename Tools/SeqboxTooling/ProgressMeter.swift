import SeqboxStore

/// Progress of a long run on standard error: bytes done of the total, rate, time left.
/// Redrawn in place at most every `redrawIntervalNanoseconds`; silent when disabled.
final class ProgressMeter {
    static let redrawIntervalNanoseconds: UInt64 = 250_000_000

    private let output: ToolOutput
    private let enabled: Bool
    private let label: String
    private let totalBytes: Int64
    private let started = monotonicNanoseconds()
    private var lastDrawn: UInt64 = 0
    private var drewSomething = false
    private(set) var doneBytes: Int64 = 0

    init(output: ToolOutput, enabled: Bool, label: String, totalBytes: Int64) {
        self.output = output
        self.enabled = enabled
        self.label = label
        self.totalBytes = max(totalBytes, 1)
    }

    var elapsedSeconds: Double { Double(monotonicNanoseconds() - started) / 1e9 }

    func advance(_ bytes: Int64) {
        doneBytes += bytes
        guard enabled else { return }
        let now = monotonicNanoseconds()
        guard now - lastDrawn >= Self.redrawIntervalNanoseconds else { return }
        lastDrawn = now
        draw()
    }

    private func draw() {
        let seconds = elapsedSeconds
        let rate = seconds > 0 ? Double(doneBytes) / seconds : 0
        let left = rate > 0 ? Double(max(totalBytes - doneBytes, 0)) / rate : 0
        let percent = Double(doneBytes) * 100 / Double(totalBytes)
        output.writeError("\r\(label) \(Quantity.bytes(doneBytes)) of \(Quantity.bytes(totalBytes)) (\(Decimal.format(min(percent, 100), digits: 0))%), " +
            "\(Quantity.rate(bytes: doneBytes, seconds: seconds)), \(Quantity.duration(left)) left   ")
        drewSomething = true
    }

    /// Ends the progress line (so the report starts on a fresh line).
    func finish() {
        guard enabled else { return }
        draw()
        if drewSomething { output.writeError("\n") }
    }
}
