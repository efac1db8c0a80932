import Foundation
import SeqboxFormat
import SeqboxStore
import XCTest

/// Power-loss tests on the simulated disk: whatever instant the crash hits, a reopened store
/// holds every acknowledged append (same seq, intact), contiguous mailboxes, no duplicates,
/// every acknowledged ack and block, a clean recovery report (a torn tail aside), and keeps
/// going. Each seed runs two crash rounds; see `FaultScenario`.
final class CrashRecoveryTests: XCTestCase {
    static let roundsPerSeed = 2

    private func runScenarios(_ test: String, seeds: Int, minimumFiredShare: Double,
                              plan: @escaping (_ round: Int, _ random: inout SeededRandom) -> CrashPlan) {
        var rounds = 0, fired = 0, tornTails = 0, acknowledged = 0
        SeedRunner.run(defaultCount: seeds, test: "SeqboxFaultTests.CrashRecoveryTests/\(test)", testCase: self) { seed in
            let configuration = FaultConfiguration(seed: seed)
            let outcome = FaultScenario(configuration: configuration, rounds: Self.roundsPerSeed, plan: plan).run()
            rounds += outcome.roundsRun
            fired += outcome.plansFired
            tornTails += outcome.tornTails
            acknowledged += outcome.acknowledgedAppends
            return (outcome.problems, configuration.description)
        }
        print("\(test): \(rounds) rounds, \(fired) crashed as planned, \(tornTails) torn tails recovered, \(acknowledged) appends acknowledged")
        XCTAssertGreaterThanOrEqual(Double(fired), minimumFiredShare * Double(rounds),
                                    "too few rounds reached their planned crash point: the scenario no longer exercises it")
    }

    func testAcknowledgedWritesSurviveACrashAtARandomMoment() {
        runScenarios(#function, seeds: 300, minimumFiredShare: 0.8) { _, random in
            random.nextInt(below: 2) == 0
                ? .afterAcknowledged(1 + random.nextInt(below: 100))
                : .atOperation(1 + random.nextInt(below: 400))
        }
    }
}
