/// How appenders call the engine.
enum AppendForm: Sendable, CustomStringConvertible {
    /// `threads` threads, each calling the blocking `append` in a loop.
    case blocking(threads: Int)
    /// One thread keeping `window` asynchronous appends in flight.
    case asynchronous(window: Int)
    /// One thread calling the blocking batch append with `size` messages at a time.
    case batches(size: Int)

    var description: String {
        switch self {
        case .blocking(let threads): "\(threads) appender\(threads == 1 ? "" : "s")"
        case .asynchronous(let window): "async, \(window) in flight"
        case .batches(let size): "batches of \(size)"
        }
    }

    /// Parses the child arguments `--threads N`, `--window N` or `--batch N`.
    init(_ arguments: Arguments) throws {
        if let window = try arguments.int("window") {
            self = .asynchronous(window: window)
        } else if let size = try arguments.int("batch") {
            self = .batches(size: size)
        } else {
            self = .blocking(threads: try arguments.int("threads", default: 1))
        }
    }

    var childArguments: [(String, String)] {
        switch self {
        case .blocking(let threads): [("threads", "\(threads)")]
        case .asynchronous(let window): [("window", "\(window)")]
        case .batches(let size): [("batch", "\(size)")]
        }
    }
}

/// What an append driver measured.
struct AppendMeasurement {
    var appends = 0
    var messages = 0
    var seconds = 0.0
    var latency = LatencyHistogram()
    var failures = 0
}

/// Runs appends against an engine for a warm-up and a measured interval, counting the
/// operations that complete in the measured interval and their latencies.
enum AppendDriver {
    static func run(_ form: AppendForm, engine: any AppendEngine, workload: Workload,
                    warmUp: Double, seconds: Double) -> AppendMeasurement {
        switch form {
        case .blocking(let threads): blocking(threads: threads, engine: engine, workload: workload, warmUp: warmUp, seconds: seconds)
        case .asynchronous(let window): asynchronous(window: window, engine: engine, workload: workload, warmUp: warmUp, seconds: seconds)
        case .batches(let size): batches(size: size, engine: engine, workload: workload, warmUp: warmUp, seconds: seconds)
        }
    }

    private static func blocking(threads: Int, engine: any AppendEngine, workload: Workload,
                                 warmUp: Double, seconds: Double) -> AppendMeasurement {
        let phase = MeasurementPhase()
        let total = Collected(AppendMeasurement())
        var elapsed = 0.0
        runThreads(count: threads, { index in
            var stream = workload.stream(index)
            var local = AppendMeasurement()
            while phase.current != MeasurementPhase.stopped {
                let message = stream.next()
                let start = Clock.nanoseconds()
                var succeeded = true
                do { try engine.append(message) } catch { succeeded = false }
                let end = Clock.nanoseconds()
                guard phase.current == MeasurementPhase.measuring else { continue }
                if succeeded {
                    local.appends += 1
                    local.latency.record(end &- start)
                } else {
                    local.failures += 1
                }
            }
            total.update { merged in
                merged.appends += local.appends
                merged.failures += local.failures
                merged.latency.merge(local.latency)
            }
        }, whileRunning: { elapsed = phase.drive(warmUp: warmUp, seconds: seconds) })
        var result = total.current
        result.messages = result.appends
        result.seconds = elapsed
        return result
    }

    private static func batches(size: Int, engine: any AppendEngine, workload: Workload,
                                warmUp: Double, seconds: Double) -> AppendMeasurement {
        let phase = MeasurementPhase()
        let total = Collected(AppendMeasurement())
        var elapsed = 0.0
        runThreads(count: 1, { index in
            var stream = workload.stream(index)
            var local = AppendMeasurement()
            var batch: [BenchMessage] = []
            batch.reserveCapacity(size)
            while phase.current != MeasurementPhase.stopped {
                batch.removeAll(keepingCapacity: true)
                for _ in 0 ..< size { batch.append(stream.next()) }
                let start = Clock.nanoseconds()
                var succeeded = true
                do { try engine.append(batch: batch) } catch { succeeded = false }
                let end = Clock.nanoseconds()
                guard phase.current == MeasurementPhase.measuring else { continue }
                if succeeded {
                    local.appends += 1
                    local.messages += size
                    local.latency.record(end &- start)
                } else {
                    local.failures += 1
                }
            }
            total.update { $0 = local }
        }, whileRunning: { elapsed = phase.drive(warmUp: warmUp, seconds: seconds) })
        var result = total.current
        result.seconds = elapsed
        return result
    }

    /// Latencies are taken from submission to completion; completions run on the engine's
    /// writer thread, one at a time, so they record into one histogram.
    private static func asynchronous(window: Int, engine: any AppendEngine, workload: Workload,
                                     warmUp: Double, seconds: Double) -> AppendMeasurement {
        let phase = MeasurementPhase()
        let inFlight = CountingSemaphore(window, wakeThreshold: max(1, window / 16))
        let total = Collected(AppendMeasurement())
        var elapsed = 0.0
        runThreads(count: 1, { index in
            var stream = workload.stream(index)
            while phase.current != MeasurementPhase.stopped {
                let message = stream.next()
                inFlight.acquire()
                let start = Clock.nanoseconds()
                engine.append(message) { succeeded in
                    let end = Clock.nanoseconds()
                    if phase.current == MeasurementPhase.measuring {
                        total.update { measurement in
                            if succeeded {
                                measurement.appends += 1
                                measurement.latency.record(end &- start)
                            } else {
                                measurement.failures += 1
                            }
                        }
                    }
                    inFlight.release()
                }
            }
            inFlight.drain()
        }, whileRunning: { elapsed = phase.drive(warmUp: warmUp, seconds: seconds) })
        var result = total.current
        result.messages = result.appends
        result.seconds = elapsed
        return result
    }
}
