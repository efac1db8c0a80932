import Foundation
import SeqboxStore
import XCTest

/// Runs a randomized scenario for many seeds and reports failing seeds so they replay:
/// `SEQBOX_SEED=<seed>` runs just that seed, `SEQBOX_SEED_COUNT=<n>` changes how many seeds a
/// run tries (from a random base, printed, so each run explores new seeds).
enum SeedRunner {
    static let seedVariable = "SEQBOX_SEED"
    static let countVariable = "SEQBOX_SEED_COUNT"
    /// A run stops after this many failing seeds (one is enough to debug; more is noise).
    static let failingSeedsReportedMax = 3
    /// Problems listed per failing seed.
    static let problemsReportedMax = 12

    /// The seeds to run: the one in SEQBOX_SEED, or `count` consecutive seeds.
    static func seeds(defaultCount: Int, test: String) -> [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment[seedVariable], let seed = UInt64(text) {
            print("\(test): replaying seed \(seed)")
            return [seed]
        }
        let count = environment[countVariable].flatMap(Int.init) ?? defaultCount
        let base = UInt64.random(in: 0 ..< (1 << 48))
        print("\(test): seeds \(base)..<\(base + UInt64(count))")
        return (0 ..< UInt64(count)).map { base + $0 }
    }

    /// Runs `scenario` for each seed; fails the test with the replay line of each failing seed.
    static func run(defaultCount: Int, test: String, testCase: XCTestCase, file: StaticString = #filePath, line: UInt = #line,
                    _ scenario: (UInt64) -> (problems: [String], context: String)) {
        var failing = 0
        for seed in seeds(defaultCount: defaultCount, test: test) {
            let result = scenario(seed)
            guard !result.problems.isEmpty else { continue }
            failing += 1
            let shown = result.problems.prefix(problemsReportedMax).joined(separator: "\n  ")
            let more = result.problems.count > problemsReportedMax ? "\n  … \(result.problems.count - problemsReportedMax) more" : ""
            XCTFail("seed \(seed) failed (\(result.context)); replay: \(seedVariable)=\(seed) swift test --filter \(test)\n  \(shown)\(more)",
                    file: file, line: line)
            if failing >= failingSeedsReportedMax { break }
        }
    }
}
