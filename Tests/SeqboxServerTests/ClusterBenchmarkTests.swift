#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

/// The end-to-end benchmark (`EndToEndBenchmarkTests`, same harness and parameters) against a
/// gateway with two storage nodes, to measure the extra hop; BENCHMARKS.md "Gateway with two
/// storage nodes" has the figures. Also prints the CPU the storage nodes used during each run.
final class ClusterBenchmarkTests: EndToEndBenchmarkTests {
    override func makeServer(directory: String, arguments: [String]) throws -> ServerProcess {
        let extra = ProcessInfo.processInfo.environment["SEQBOX_BENCH_NODE_ARGS"] ?? ""
        return try ClusterLauncher.makeGateway(for: self, directory: directory, arguments: arguments,
                                               nodeArguments: ["--log-level", "info"] + extra.split(separator: " ").map(String.init))
    }

    /// CPU seconds of every storage node so far.
    func nodeCPUSeconds() -> [Double] { supportingProcesses.map { cpuSeconds(pid: $0.pid) ?? 0 } }

    override func testSendToNotifyLatencyAndDurableThroughput() throws {
        let before = nodeCPUSeconds()
        let started = Date()
        try super.testSendToNotifyLatencyAndDurableThroughput()
        let seconds = Date().timeIntervalSince(started)
        let used = zip(nodeCPUSeconds(), before).map { $0 - $1 }
        let stats = try supportingProcesses.map { try $0.storageClient().storeStatistics() }
        let groups = stats.map { $0["append_groups"] ?? 0 }
        let syncs = stats.map { $0["syncs"] ?? 0 }
        print("BENCH cluster storage_nodes=\(used.count) node_cpu_seconds=\(used.map { format($0) }.joined(separator: ",")) over_seconds=\(format(seconds)) gateway_rss_bytes=\(residentBytes(pid: server.pid) ?? 0) node_append_groups=\(groups.map(String.init).joined(separator: ",")) node_syncs=\(syncs.map(String.init).joined(separator: ","))")
        // The gateway's own counters (frames and groups sent to the nodes) come with its shutdown.
        XCTAssertEqual(server.kill(signal: SIGTERM), 0)
        if let line = server.logText.split(separator: "\n").first(where: { $0.contains("event=storage_clients_stopped") }) {
            print("BENCH cluster gateway \(line.split(separator: " ").dropFirst(3).joined(separator: " "))")
        }
    }

    // XCTest on Linux runs only the test methods a class declares: each inherited one is named here.
    override func testMemoryPerIdleConnection() throws { try super.testMemoryPerIdleConnection() }
}
