#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import XCTest

/// `chaos-proxy` does what the proof relies on: forwards bytes intact and in order, adds the
/// latency asked for, resets connections partway (RST), black-holes them (no data, no FIN),
/// refuses non-loopback addresses, and stops by itself.
final class ChaosProxyTests: XCTestCase {
    private var directory = ""
    private var echo: EchoServer?
    private var proxies: [ChildProcess] = []

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "seqbox-chaos-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard FileManager.default.isExecutableFile(atPath: ChildProcess.builtProduct("chaos-proxy")) else {
            throw ProofError("chaos-proxy is not built at \(ChildProcess.builtProduct("chaos-proxy")): run `swift build` first")
        }
        echo = try EchoServer()
    }

    override func tearDownWithError() throws {
        for proxy in proxies { proxy.stop(signal: SIGKILL) }
        proxies.removeAll()
        echo?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func startProxy(_ flags: [String], duration: Int = 30) throws -> UInt16 {
        let portFile = "\(directory)/port-\(proxies.count)"
        let proxy = try ChildProcess(name: "chaos-proxy", executable: ChildProcess.builtProduct("chaos-proxy"),
                                     arguments: ["--upstream", "127.0.0.1:\(echo!.port)", "--port-file", portFile,
                                                 "--duration-s", String(duration)] + flags,
                                     environment: [:], logPath: "\(directory)/proxy-\(proxies.count).log")
        proxies.append(proxy)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = UInt16(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return port
            }
            usleep(10_000)
        }
        throw ProofError("chaos-proxy did not start: \(proxy.log)")
    }

    func testWithoutFaultsEveryByteArrivesInOrderAfterTheAddedLatency() throws {
        let port = try startProxy(["--latency-ms", "40"])
        let socket = try TestSocket(port: port)
        let payload = (0 ..< 300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let started = Date()
        try socket.send(Array(payload[0 ..< 10]))
        let first = try socket.receive(count: 10, seconds: 5)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.08, "40 ms each way")
        XCTAssertEqual(first, Array(payload[0 ..< 10]))
        try socket.send(Array(payload[10...]))
        XCTAssertEqual(try socket.receive(count: payload.count - 10, seconds: 10), Array(payload[10...]))
    }

    func testDropRateOneResetsEveryConnectionWithinTheByteBudget() throws {
        let port = try startProxy(["--drop-rate", "1", "--fault-after-bytes-max", "3000", "--fault-after-ms-max", "60000", "--seed", "7"])
        for _ in 0 ..< 3 {
            let socket = try TestSocket(port: port)
            var echoed = 0
            var outcome = ""
            for _ in 0 ..< 20 {
                guard (try? socket.send([UInt8](repeating: 7, count: 500))) != nil else { outcome = "send failed"; break }
                switch socket.receiveSome(seconds: 2) {
                case .bytes(let count): echoed += count
                case .reset: outcome = "reset"
                case .closed: outcome = "closed"
                case .timeout: outcome = "timeout"
                }
                if !outcome.isEmpty { break }
            }
            XCTAssertTrue(outcome == "reset" || outcome == "send failed", "a drop is an RST, not \(outcome.isEmpty ? "a survivor" : outcome)")
            XCTAssertLessThanOrEqual(echoed, 3000)
        }
    }

    func testBlackholeRateOneSilencesTheConnectionWithoutClosingIt() throws {
        let port = try startProxy(["--blackhole-rate", "1", "--fault-after-bytes-max", "100", "--fault-after-ms-max", "60000"])
        let socket = try TestSocket(port: port)
        try socket.send([UInt8](repeating: 1, count: 1_000))
        var received = 0
        while case .bytes(let count) = socket.receiveSome(seconds: 0.5) { received += count }
        XCTAssertLessThanOrEqual(received, 100)
        try socket.send([UInt8](repeating: 2, count: 1_000))
        XCTAssertEqual(socket.receiveSome(seconds: 1), .timeout, "no data and no FIN: the client must notice by itself")
    }

    func testBandwidthCapPacesTheStreamAndStallsAreCounted() throws {
        let port = try startProxy(["--bandwidth-rate", "1", "--bandwidth-bps", "20000", "--stall-rate", "1", "--stall-ms-max", "50"])
        let socket = try TestSocket(port: port)
        let payload = [UInt8](repeating: 9, count: 30_000)
        let started = Date()
        try socket.send(payload)
        XCTAssertEqual(try socket.receive(count: payload.count, seconds: 15).count, payload.count)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 1.3, "30 KB at 20 KB/s takes about 1.5 s")
        proxies[0].stop(signal: SIGTERM)
        let counts = ServerAndProxy.faultCounts(in: proxies[0].log)
        XCTAssertEqual(counts["capped"], 1, proxies[0].log)
        XCTAssertGreaterThan(counts["stalls"] ?? 0, 0, proxies[0].log)
    }

    func testNonLoopbackAddressesAreRefusedAndTheProxyStopsByItself() throws {
        let refused = try ChildProcess.output(of: ChildProcess.builtProduct("chaos-proxy"),
                                              arguments: ["--upstream", "127.0.0.1:1", "--listen", "0.0.0.0:0"], environment: [:])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.output.contains("loopback"), refused.output)
        _ = try startProxy([], duration: 1)
        let deadline = Date().addingTimeInterval(5)
        while proxies[0].isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertFalse(proxies[0].isRunning, "the proxy exits after --duration-s")
        XCTAssertTrue(proxies[0].log.contains("chaos-proxy done"), proxies[0].log)
    }
}
