import Foundation
import SeqboxFormat
import SeqboxStore
import XCTest

/// Power-loss tests on the simulated disk: whatever instant the crash hits, a reopened store
/// holds every acknowledged append (same seq, intact), contiguous mailboxes, no duplicates,
/// every acknowledged ack and block, a clean recovery report (a torn tail aside), and keeps
/// going. Each seed runs several crash rounds on the same store; see `FaultScenario`.
/// Replay a failing seed with SEQBOX_SEED=<seed> (thread interleavings still vary).
final class CrashRecoveryTests: XCTestCase {
    static let roundsPerSeed = 3

    private func runScenarios(_ test: String, seeds: Int, minimumFiredShare: Double, retention: Bool = false,
                              plan: @escaping (FaultConfiguration, _ round: Int, _ random: inout SeededRandom) -> CrashPlan) {
        var trimmed = 0, unwritten = 0
        var rounds = 0, fired = 0, tornTails = 0, acknowledged = 0, recoveriesCrashed = 0
        SeedRunner.run(defaultCount: seeds, test: "SeqboxFaultTests.CrashRecoveryTests/\(test)", testCase: self) { seed in
            let configuration = FaultConfiguration(seed: seed, retention: retention)
            let outcome = FaultScenario(configuration: configuration, rounds: Self.roundsPerSeed, plan: plan).run()
            rounds += outcome.roundsRun
            fired += outcome.plansFired
            tornTails += outcome.tornTails
            acknowledged += outcome.acknowledgedAppends
            recoveriesCrashed += outcome.recoveriesCrashed
            trimmed += outcome.trimmedMailboxes
            unwritten += outcome.unwrittenAppends
            return (outcome.problems, configuration.description)
        }
        print("\(test): \(rounds) rounds, \(fired) crashed as planned, \(recoveriesCrashed) recoveries crashed, \(tornTails) torn tails recovered, \(acknowledged) appends acknowledged, \(trimmed) mailboxes trimmed by retention, \(unwritten) failed writes checked absent")
        XCTAssertGreaterThanOrEqual(Double(fired), minimumFiredShare * Double(rounds),
                                    "too few rounds reached their planned crash point: the scenario no longer exercises it")
        if retention { XCTAssertGreaterThan(trimmed, rounds, "retention should have deleted old messages in most rounds") }
    }

    func testAcknowledgedWritesSurviveACrashAtARandomMoment() {
        runScenarios(#function, seeds: 300, minimumFiredShare: 0.7) { configuration, _, random in
            let appends = configuration.expectedAppendsPerRound
            switch random.nextInt(below: 3) {
            case 0: return .afterAcknowledged(1 + random.nextInt(below: appends * 3 / 4))
            case 1: return .atOperation(1 + random.nextInt(below: appends * 3 / 2))
            default: return .beforeRecordSync(1 + random.nextInt(below: appends / 2))
            }
        }
    }

    func testAcknowledgedWritesSurviveACrashDuringASegmentRoll() {
        runScenarios(#function, seeds: 150, minimumFiredShare: 0.6) { _, _, random in
            .duringRoll(roll: 1 + random.nextInt(below: 2), step: random.nextInt(below: CrashPlan.stepsPerRoll))
        }
    }

    func testAcknowledgedWritesSurviveACrashDuringACheckpointWrite() {
        runScenarios(#function, seeds: 150, minimumFiredShare: 0.6) { _, _, random in
            .duringCheckpoint(checkpoint: 1 + random.nextInt(below: 2), step: random.nextInt(below: CrashPlan.stepsPerCheckpoint))
        }
    }

    /// A failed fdatasync fails the appends it was to make durable, poisons the store (every
    /// later write fails with `failedEarlier`, nothing unsynced is ever published), and a crash
    /// right after loses nothing acknowledged.
    func testAFailedSyncFailsItsAppendsPoisonsTheStoreAndLosesNothingAcknowledged() {
        runScenarios(#function, seeds: 150, minimumFiredShare: 0.7) { configuration, _, random in
            .afterSyncFailure(sync: 1 + random.nextInt(below: configuration.expectedAppendsPerRound / 4))
        }
    }

    /// A failed write (EIO) fails the appends of its batch and nothing else: the store is not
    /// poisoned, later appends reuse the seqs the failed ones would have had (no gap), the failed
    /// messages never appear, and a crash after all that loses nothing acknowledged.
    func testFailedWritesLeaveNoGapAndNoGhostRecords() {
        runScenarios(#function, seeds: 150, minimumFiredShare: 0.8) { _, _, random in
            .writeFailures(period: 4 + random.nextInt(below: 12))
        }
    }

    /// Retention deletes whole old segments after a checkpoint has captured their cursors and
    /// blocks: a crash anywhere in that (or in the rolls that trigger it) loses nothing that is
    /// still retained, and no cursor or block from deleted segments.
    func testRetentionDeletingOldSegmentsIsCrashSafe() {
        runScenarios(#function, seeds: 150, minimumFiredShare: 0.6, retention: true) { configuration, _, random in
            switch random.nextInt(below: 3) {
            case 0: return .atOperation(1 + random.nextInt(below: configuration.expectedAppendsPerRound * 3 / 2))
            case 1: return .duringRoll(roll: 2 + random.nextInt(below: 3), step: random.nextInt(below: CrashPlan.stepsPerRoll))
            default: return .duringCheckpoint(checkpoint: 2 + random.nextInt(below: 3), step: random.nextInt(below: CrashPlan.stepsPerCheckpoint))
            }
        }
    }
}
