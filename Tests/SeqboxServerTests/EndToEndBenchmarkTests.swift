#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxProtocol
import XCTest

/// The end-to-end benchmark (a measurement, not a timed test): send→NOTIFY latency at an
/// offered rate, durable sends per second at saturation, and memory per idle connection, with
/// the clients in this process and seqboxd in its own.
///
/// By default it runs small (a few seconds) and checks only that every message was notified.
/// The figures for BENCHMARKS.md come from a release build with the scale raised through
/// environment variables (see docs/SERVER.md):
/// SEQBOX_BENCH_CONNECTIONS (default 100), SEQBOX_BENCH_RATE (messages/s offered, default 1000),
/// SEQBOX_BENCH_SECONDS (per phase, default 1), SEQBOX_BENCH_IDLE_CONNECTIONS (default 1000),
/// SEQBOX_BENCH_WINDOW (SENDs in flight per sender at saturation, default 32),
/// SEQBOX_BENCH_BODY_BYTES (default 150), SEQBOX_BENCH_SERVER_ARGS (extra seqboxd flags).
class EndToEndBenchmarkTests: EndToEndTestCase {
    /// Extra seqboxd flags from SEQBOX_BENCH_SERVER_ARGS (space-separated), e.g. a durability mode.
    override var serverArguments: [String] {
        let extra = ProcessInfo.processInfo.environment["SEQBOX_BENCH_SERVER_ARGS"] ?? ""
        return ["--send-rate", "0", "--log-level", "info"] + extra.split(separator: " ").map(String.init)
    }

    func setting(_ name: String, _ fallback: Double) -> Double {
        ProcessInfo.processInfo.environment[name].flatMap(Double.init) ?? fallback
    }

    func testSendToNotifyLatencyAndDurableThroughput() throws {
        let connections = Int(setting("SEQBOX_BENCH_CONNECTIONS", 100))
        let rate = setting("SEQBOX_BENCH_RATE", 1000)
        let seconds = setting("SEQBOX_BENCH_SECONDS", 1)
        let window = Int(setting("SEQBOX_BENCH_WINDOW", 32))
        let bodyBytes = Int(setting("SEQBOX_BENCH_BODY_BYTES", 150))
        let fleet = try BenchFleet(port: server.port, bodySize: bodyBytes)
        try fleet.open(count: connections, firstUser: 10_000_000)
        fleet.pairHalves()

        // CPU used during the paced phase: the server, this client process, the whole machine
        // (other jobs on a shared machine show up as machine minus server minus client).
        let (serverBefore, clientBefore, machineBefore) = (cpuSeconds(pid: server.pid) ?? 0, cpuSeconds(pid: getpid()) ?? 0, machineTicks())
        let paced = try fleet.runPaced(ratePerSecond: rate, seconds: seconds)
        let (serverAfter, clientAfter, machineAfter) = (cpuSeconds(pid: server.pid) ?? 0, cpuSeconds(pid: getpid()) ?? 0, machineTicks())
        let cores = Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let machineBusyCores = (machineAfter.busy - machineBefore.busy) / max(1, machineAfter.total - machineBefore.total) * cores
        XCTAssertEqual(paced.errors, 0)
        XCTAssertEqual(paced.acknowledged, paced.sent)
        XCTAssertEqual(paced.latenciesMicroseconds.count, paced.sent, "every message notified")
        let saturated = try fleet.runSaturated(window: window, seconds: seconds)
        XCTAssertEqual(saturated.errors, 0)
        XCTAssertGreaterThan(saturated.acknowledged, 0)
        let throughput = Double(saturated.acknowledged) / saturated.seconds
        print("""
            BENCH e2e connections=\(connections) body_bytes=\(bodyBytes) offered_msgs_per_s=\(Int(rate)) achieved_msgs_per_s=\(Int(Double(paced.sent) / paced.seconds)) \
            send_notify_p50_us=\(paced.percentile(0.50)) send_notify_p99_us=\(paced.percentile(0.99)) \
            send_notify_p999_us=\(paced.percentile(0.999)) send_notify_max_us=\(paced.percentile(1.0)) \
            paced_server_cores=\(format((serverAfter - serverBefore) / paced.seconds)) paced_client_cores=\(format((clientAfter - clientBefore) / paced.seconds)) \
            paced_machine_busy_cores=\(format(machineBusyCores)) \
            saturated_window=\(window) durable_sends_per_s=\(Int(throughput)) saturated_notify_p50_us=\(saturated.percentile(0.5)) \
            saturated_notify_p99_us=\(saturated.percentile(0.99)) server_rss_bytes=\(residentBytes(pid: server.pid) ?? 0)
            """)
        fleet.closeAll()
    }

    func format(_ value: Double) -> String { String(Double(Int(value * 100)) / 100) }

    func testMemoryPerIdleConnection() throws {
        let count = Int(setting("SEQBOX_BENCH_IDLE_CONNECTIONS", 1000))
        // Warm up: one connection through the whole path, so one-time allocations are counted out.
        let warmUp = try BenchFleet(port: server.port)
        try warmUp.open(count: 2, firstUser: 20_000_000)
        warmUp.closeAll()
        usleep(200_000)
        let before = try XCTUnwrap(residentBytes(pid: server.pid))
        let fleet = try BenchFleet(port: server.port)
        try fleet.open(count: count, firstUser: 30_000_000)
        usleep(500_000)
        let after = try XCTUnwrap(residentBytes(pid: server.pid))
        XCTAssertTrue(server.isRunning)
        let perConnection = (after - before) / count
        print("BENCH idle connections=\(count) server_rss_before_bytes=\(before) server_rss_after_bytes=\(after) bytes_per_idle_connection=\(perConnection)")
        XCTAssertLessThan(perConnection, 64 << 10, "an idle connection costs more than 64 KiB")
        fleet.closeAll()
    }
}
