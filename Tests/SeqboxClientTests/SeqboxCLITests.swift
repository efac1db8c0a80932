#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

/// The `seqbox` command line against the real seqboxd: the README walkthrough (two users chat,
/// a device switch shows only the unseen messages), block, and a send that outlives a server
/// outage.
final class SeqboxCLITests: XCTestCase {
    private var directory = ""
    private var processes: ServerAndProxy!
    private var listeners: [ChildProcess] = []
    private var tokens: [String: String] = [:]

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "seqbox-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        processes = ServerAndProxy(directory: directory)
    }

    override func tearDownWithError() throws {
        for listener in listeners { listener.stop(signal: SIGKILL) }
        listeners.removeAll()
        processes?.stopAll()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testEveryCommandExplainsItselfWithHelp() throws {
        try processes.requireBinaries(["seqbox"])
        for command in [[], ["send"], ["listen"], ["chat"], ["history"], ["block"], ["unblock"]] {
            let result = try ChildProcess.output(of: processes.clientBinary, arguments: command + ["--help"], environment: processes.environment)
            XCTAssertEqual(result.status, 0, "\(command)")
            XCTAssertTrue(result.output.contains("usage: seqbox"), "\(command): \(result.output)")
            XCTAssertTrue(result.output.contains("--server HOST:PORT"), "\(command) documents the shared options")
        }
        let wrong = try ChildProcess.output(of: processes.clientBinary, arguments: ["send", "--to", "2", "x"], environment: processes.environment)
        XCTAssertEqual(wrong.status, 2, "a missing --user is a usage error")
    }

    func testWalkthroughChatThenSwitchDeviceShowsOnlyTheUnseenMessages() throws {
        try startServer()
        XCTAssertEqual(try seqbox(user: 2, ["send", "--to", "1", "hello alice"]).status, 0)
        let phone = try listen(user: 1, device: 1)
        try waitFor(phone, toShow: ["[seq 1] 2 -> you", "hello alice"])
        XCTAssertEqual(try seqbox(user: 2, ["send", "--to", "1", "are you there?"]).status, 0)
        try waitFor(phone, toShow: ["[seq 2] 2 -> you", "are you there?", " ms): "])
        phone.stop(signal: SIGINT)
        listeners.removeAll { $0 === phone }

        XCTAssertEqual(try seqbox(user: 2, ["send", "--to", "1", "while you were away"]).status, 0)
        let laptop = try listen(user: 1, device: 2)
        try waitFor(laptop, toShow: ["[seq 3] 2 -> you", "while you were away"])
        XCTAssertFalse(laptop.log.contains("hello alice"), "the phone saw it: the laptop starts after it\n\(laptop.log)")
        XCTAssertFalse(laptop.log.contains("are you there?"), laptop.log)
        XCTAssertEqual(try seqbox(user: 1, ["send", "--to", "2", "sent from the tablet"], device: 3).status, 0)
        try waitFor(laptop, toShow: ["[seq 4] you -> 2 (device 3)", "sent from the tablet"])

        let history = try seqbox(user: 1, ["history", "--after", "0"], device: 4)
        XCTAssertEqual(history.status, 0, history.output)
        let lines = history.output.split(separator: "\n").filter { $0.hasPrefix("[seq ") }
        XCTAssertEqual(lines.count, 4, history.output)
        XCTAssertTrue(lines.first?.contains("hello alice") ?? false)
    }

    func testBlockedSenderIsToldItsMessageWasNotDelivered() throws {
        try startServer()
        let blocked = try seqbox(user: 1, ["block", "2"])
        XCTAssertEqual(blocked.status, 0, blocked.output)
        XCTAssertTrue(blocked.output.contains("blocked 2"))
        let refused = try seqbox(user: 2, ["send", "--to", "1", "let me in"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.output.contains("blocked"), refused.output)
        XCTAssertEqual(try seqbox(user: 1, ["unblock", "2"]).status, 0)
        XCTAssertEqual(try seqbox(user: 2, ["send", "--to", "1", "thanks"]).status, 0)
    }

    func testPushTokenIsRegisteredAndUnregistered() throws {
        try startServer()
        let apns = try seqbox(user: 1, ["push-register", "--platform", "apns", "--push-token", String(repeating: "0a1b", count: 16)])
        XCTAssertEqual(apns.status, 0, apns.output)
        XCTAssertTrue(apns.output.contains("push token registered"), apns.output)
        let fcm = try seqbox(user: 1, ["push-register", "--platform", "fcm", "--push-token", "fcm:registration-token"], device: 2)
        XCTAssertEqual(fcm.status, 0, fcm.output)
        XCTAssertTrue(fcm.output.contains("push token registered"), fcm.output)
        let removed = try seqbox(user: 1, ["push-unregister"])
        XCTAssertEqual(removed.status, 0, removed.output)
        XCTAssertTrue(removed.output.contains("push token unregistered"), removed.output)
        let notHex = try seqbox(user: 1, ["push-register", "--platform", "apns", "--push-token", "xyz"])
        XCTAssertEqual(notHex.status, 2, "an apns token that is not hex is a usage error: \(notHex.output)")
    }

    func testMessageQueuedWhileTheServerIsDownIsDeliveredOnceByTheNextCommand() throws {
        try startServer()
        let port = processes.serverPort
        _ = try token(user: 1, device: 1)
        _ = try token(user: 2, device: 1)
        processes.stopAll()
        let offline = try seqbox(user: 2, ["send", "--to", "1", "written offline", "--timeout-s", "2"], port: port)
        XCTAssertEqual(offline.status, 1)
        XCTAssertTrue(offline.output.contains("stays queued"), offline.output)
        try processes.startServer(port: port)
        let online = try seqbox(user: 2, ["send", "--to", "1", "written online"])
        XCTAssertEqual(online.status, 0, online.output)
        XCTAssertTrue(online.output.contains("to 1: seq"), online.output)
        let history = try seqbox(user: 1, ["history", "--after", "0"])
        let texts = history.output.split(separator: "\n").filter { $0.hasPrefix("[seq ") }.map { String($0.split(separator: ": ", maxSplits: 1).last ?? "") }
        XCTAssertEqual(texts, ["written offline", "written online"], history.output)
    }

    // MARK: Helpers

    private func startServer() throws {
        try processes.requireBinaries(["seqboxd", "seqbox"])
        try processes.startServer()
    }

    private func token(user: UInt64, device: UInt64) throws -> String {
        let key = "\(user)-\(device)"
        if let token = tokens[key] { return token }
        let token = try processes.token(user: user, device: device).map { String(format: "%02x", $0) }.joined()
        tokens[key] = token
        return token
    }

    private func commonArguments(user: UInt64, device: UInt64, port: UInt16?) throws -> [String] {
        ["--server", "127.0.0.1:\(port ?? processes.serverPort)", "--user", String(user), "--device", String(device),
         "--token", try token(user: user, device: device), "--state", "\(directory)/\(user)-\(device).state"]
    }

    private func seqbox(user: UInt64, _ arguments: [String], device: UInt64 = 1, port: UInt16? = nil) throws -> (status: Int32, output: String) {
        try ChildProcess.output(of: processes.clientBinary, arguments: arguments + (try commonArguments(user: user, device: device, port: port)),
                                environment: processes.environment)
    }

    private func listen(user: UInt64, device: UInt64) throws -> ChildProcess {
        let listener = try ChildProcess(name: "seqbox listen", executable: processes.clientBinary,
                                        arguments: ["listen"] + (try commonArguments(user: user, device: device, port: nil)),
                                        environment: processes.environment, logPath: "\(directory)/listen-\(user)-\(device).log")
        listeners.append(listener)
        return listener
    }

    private func waitFor(_ listener: ChildProcess, toShow texts: [String], seconds: Double = 20) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let log = listener.log
            if texts.allSatisfy(log.contains) { return }
            usleep(20_000)
        }
        throw ProofError("\(listener.name) did not show \(texts) within \(seconds) s:\n\(listener.log)")
    }
}
