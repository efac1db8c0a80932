#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxFormat
import SeqboxStore
import XCTest

/// Real process crashes: `seqbox-stress append` (sync mode, several threads) is killed with
/// SIGKILL at a random moment, round after round on the same store directory; after each kill
/// the store, opened in this process, must hold every append the child printed as acknowledged,
/// with its seq and intact, in contiguous mailboxes without duplicates. Later rounds recover the
/// torn tails earlier kills left (and some kills land during that recovery).
final class KillNineCrashTests: XCTestCase {
    static let rounds = 5
    /// The kill comes this long after the child started.
    static let killDelayMilliseconds = 50 ... 500
    static let users = 6
    /// Small segments, so kills also land in rolls, index files and checkpoints.
    static let segmentBytes = 64 << 10
    /// The child's own time limit: far beyond the kill, a bound should the kill fail.
    static let childSeconds = 30

    private var directory: String!
    private var children: [StressChild] = []

    override func setUp() {
        directory = NSTemporaryDirectory() + "seqbox-kill9-\(UUID().uuidString)"
    }

    override func tearDown() {
        for child in children { child.killAndWait() }
        children = []
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: directory + ".acks")
    }

    private struct Acknowledgement {
        var user: UInt64, seq: UInt32, clientMessageID: UInt64
    }

    func testEveryAcknowledgedAppendSurvivesKillNineOfTheWriter() throws {
        let (executable, searched) = StressChild.locateExecutable()
        guard let executable else {
            return XCTFail("seqbox-stress was not found next to the test bundle (looked for \(searched.joined(separator: ", "))); build it with `swift build`")
        }
        let seed = SeedRunner.seeds(defaultCount: 1, test: "SeqboxFaultTests.KillNineCrashTests/\(#function)")[0]
        var random = SeededRandom(seed: seed)
        var acknowledged: [Acknowledgement] = []
        var killedWithAcknowledgements = 0
        for round in 1 ... Self.rounds {
            let delay = Self.killDelayMilliseconds.lowerBound + random.nextInt(below: Self.killDelayMilliseconds.count)
            let context = "seed \(seed) (replay: SEQBOX_SEED=\(seed)), round \(round), kill after \(delay) ms"
            let child = try StressChild(executable: executable, arguments: [
                "append", "--dir", directory, "--users", "\(Self.users)", "--threads", "4", "--payload", "3000",
                "--seconds", "\(Self.childSeconds)", "--segment-bytes", "\(Self.segmentBytes)", "--run", "\(round)",
                "--seed", "\(random.next() >> 1)",
            ])
            children.append(child)
            usleep(UInt32(delay) * 1000)
            XCTAssertTrue(child.killAndWait(), "\(context): the child's pipes did not close")
            XCTAssertTrue(child.wasKilled, "\(context): the child exited by itself (status \(child.process.terminationStatus)): \(child.standardError)")
            let lines = child.completeOutputLines
            let parsed = lines.compactMap(Self.parse)
            XCTAssertEqual(parsed.count, lines.count, "\(context): unexpected output lines")
            if !parsed.isEmpty { killedWithAcknowledgements += 1 }
            acknowledged += parsed
            try verifyStore(acknowledged: acknowledged, context: context)
        }
        XCTAssertGreaterThan(killedWithAcknowledgements, Self.rounds / 2, "most kills should come after the child acknowledged appends")
        try crossCheckWithTheToolsVerifier(executable: executable, acknowledged: acknowledged)
        print("\(#function): \(acknowledged.count) acknowledged appends over \(Self.rounds) kills, all present")
    }

    private static func parse(_ line: Substring) -> Acknowledgement? {
        let fields = line.split(separator: " ")
        guard fields.count == 4, fields[0] == "ack", let user = UInt64(fields[1]), let seq = UInt32(fields[2]),
              let clientMessageID = UInt64(fields[3]) else { return nil }
        return Acknowledgement(user: user, seq: seq, clientMessageID: clientMessageID)
    }

    /// Opens the store here and checks it against everything acknowledged so far.
    private func verifyStore(acknowledged: [Acknowledgement], context: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let store = try MailboxStore.open(directory: directory)
        defer { try? store.close() }
        let report = store.recoveryReport
        XCTAssertTrue(report.isClean && report.checkpointProblems.isEmpty, "\(context): \(report)", file: file, line: line)

        struct Identity: Hashable { var sender: UInt64, device: UInt64, clientMessageID: UInt64 }
        var found: [UInt64: (user: UInt64, seq: UInt32)] = [:]
        var identities: Set<Identity> = []
        for user in store.users() {
            let newest = store.newestSeq(user: user).rawValue
            var after: UInt32 = 0
            reading: while after < newest {
                let read = try store.read(user: user, after: Seq(after), limit: 1000)
                guard read.status == .ok, !read.messages.isEmpty else {
                    XCTFail("\(context): user \(user) read after \(after) answered \(read.status) (newest \(newest))", file: file, line: line)
                    break reading
                }
                for message in read.messages {
                    guard message.seq.rawValue == after + 1 else {
                        XCTFail("\(context): user \(user) seq \(message.seq) follows \(after)", file: file, line: line)
                        break reading
                    }
                    after += 1
                    let id = message.clientMessageID.rawValue
                    if !identities.insert(Identity(sender: message.sender.rawValue, device: message.device.rawValue, clientMessageID: id)).inserted {
                        XCTFail("\(context): cmid \(id) is stored twice (again at user \(user) seq \(message.seq))", file: file, line: line)
                    }
                    found[id] = (user.rawValue, message.seq.rawValue)
                    if let problem = StressPayloadCheck.problem(message.payload, user: user.rawValue, clientMessageID: id) {
                        XCTFail("\(context): user \(user) seq \(message.seq): \(problem)", file: file, line: line)
                    }
                }
            }
        }
        var missing = 0
        for ack in acknowledged {
            guard let place = found[ack.clientMessageID], place == (ack.user, ack.seq) else {
                missing += 1
                if missing <= 10 {
                    XCTFail("\(context): acknowledged cmid \(ack.clientMessageID) (user \(ack.user) seq \(ack.seq)) is \(found[ack.clientMessageID].map { "at user \($0.user) seq \($0.seq)" } ?? "missing")",
                            file: file, line: line)
                }
                continue
            }
        }
        XCTAssertEqual(missing, 0, "\(context): acknowledged appends missing or moved", file: file, line: line)
    }

    /// `seqbox-stress verify` must agree: it exits 0 on this store with these acknowledgements.
    private func crossCheckWithTheToolsVerifier(executable: URL, acknowledged: [Acknowledgement]) throws {
        let acksPath = directory + ".acks"
        let text = acknowledged.map { "ack \($0.user) \($0.seq) \($0.clientMessageID)\n" }.joined()
        try text.write(toFile: acksPath, atomically: true, encoding: .utf8)
        let verifier = try StressChild(executable: executable, arguments: ["verify", "--dir", directory, "--acks", acksPath])
        children.append(verifier)
        verifier.process.waitUntilExit()
        XCTAssertTrue(verifier.killAndWait())
        XCTAssertEqual(verifier.process.terminationStatus, 0, "seqbox-stress verify: \(verifier.standardError)")
        XCTAssertTrue(verifier.completeOutputLines.last?.hasSuffix("; ok") ?? false, "seqbox-stress verify printed \(verifier.completeOutputLines)")
    }
}
