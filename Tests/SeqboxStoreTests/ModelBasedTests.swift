import Foundation
import XCTest
import SeqboxStore

/// Model-based randomized testing: seeded random sequences of appends (single, batched, retried,
/// oversized), reads and visits, acks, blocks, reopenings, crashes, rolls, checkpoints and
/// retention, each checked against a plain in-memory model (`ModelState`, `ModelRun`).
///
/// A failure prints its seed; `SEQBOX_SEED=<seed> swift test --filter ModelBasedTests` replays
/// exactly that seed on both file systems.
final class ModelBasedTests: XCTestCase {
    static let simulatedSeeds = 16
    static let diskSeeds = 3
    static let operationsPerSeed = 400
    /// Wall-clock bound of one test method: later seeds are skipped (and said so) past it, so a
    /// loaded machine runs fewer seeds instead of failing on time. At least
    /// `minimumSeeds` always run.
    static let timeBudgetSeconds = 45.0
    static let minimumSeeds = 3

    private var directories: [String] = []

    override func tearDown() {
        for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
        directories = []
    }

    func testRandomOperationsMatchTheModelOnTheSimulatedFileSystem() {
        runSeeds(seeds(defaultCount: Self.simulatedSeeds), storage: .simulated)
    }

    func testRandomOperationsMatchTheModelOnTheRealFileSystem() {
        runSeeds(seeds(defaultCount: Self.diskSeeds), storage: .disk)
    }

    /// The seeds to run: `SEQBOX_SEED` alone when set, else 1...defaultCount.
    private func seeds(defaultCount: Int) -> [UInt64] {
        if let text = ProcessInfo.processInfo.environment["SEQBOX_SEED"] {
            guard let seed = UInt64(text) else {
                XCTFail("SEQBOX_SEED=\(text) is not an unsigned integer")
                return []
            }
            return [seed]
        }
        return (1 ... defaultCount).map { UInt64($0) }
    }

    private func runSeeds(_ seeds: [UInt64], storage: ModelRun.Storage) {
        let started = Date()
        var counts: [String: Int] = [:]
        var failed: [UInt64] = []
        for (index, seed) in seeds.enumerated() {
            if index >= Self.minimumSeeds && Date().timeIntervalSince(started) > Self.timeBudgetSeconds {
                print("model-based test: time budget reached, ran seeds 1...\(index) of \(seeds.count) on \(storage)")
                break
            }
            let directory: String
            switch storage {
            case .simulated: directory = "/model"
            case .disk:
                directory = NSTemporaryDirectory() + "seqbox-model-\(UUID().uuidString)"
                directories.append(directory)
            }
            let run = ModelRun(seed: seed, storage: storage, directory: directory)
            do {
                try run.run(operations: Self.operationsPerSeed)
            } catch {
                failed.append(seed)
                XCTFail("\(error)\nreplay: SEQBOX_SEED=\(seed) swift test --filter ModelBasedTests")
            }
            run.close()
            counts.merge(run.counts, uniquingKeysWith: +)
        }
        if failed.isEmpty && seeds.count > 1 {
            // The mix really exercised every kind of operation.
            for kind in ["append", "batch", "read", "visit", "ack", "block", "unblock", "reopen", "rollSegment", "checkpoint", "applyRetention"] {
                XCTAssertGreaterThan(counts[kind] ?? 0, 0, "no \(kind) operation ran")
            }
            if storage == .simulated { XCTAssertGreaterThan(counts["crash"] ?? 0, 0, "no crash ran") }
        }
        if !failed.isEmpty { print("model-based test: seeds failing on \(storage): \(failed)") }
    }
}
