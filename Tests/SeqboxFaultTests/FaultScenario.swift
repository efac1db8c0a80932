import Foundation
import SeqboxFormat
import SeqboxStore

/// One seed's crash scenario: open a store on a fresh simulated disk; for each round run the
/// workers, crash as the round's plan says, reopen on the crashed disk and check it against
/// what had been acknowledged, then check that it keeps accepting appends. Later rounds start
/// from the recovered store, so recovery after an earlier recovery is exercised too.
struct FaultScenario {
    /// How long the test thread waits for the workers of one round.
    static let roundTimeoutSeconds: TimeInterval = 60
    /// Acknowledged appends retried after each recovery: they must come back as duplicates.
    static let retriesAfterRecovery = 4
    /// One round in this many also cuts the power during the first reopen (recovery's index
    /// rebuild, torn-tail zeroing, opening checkpoint) before the reopen that is checked.
    static let recoveryCrashOdds = 3
    /// Recovery's crash comes before one of its first this-many changes to the disk (index
    /// rebuilds, torn-tail zeroing and the opening checkpoint take about this many; beyond
    /// them it lands in the checkpoint `close` writes).
    static let recoveryOperationsMax = 16
    static let mutatingOperations: Set<SimulatedFileSystem.Operation> = [
        .createDirectory, .remove, .rename, .syncDirectory, .write, .sync, .truncate, .allocate,
    ]

    /// What a scenario observed, for the test's coverage figures.
    struct Outcome {
        var problems: [String] = []
        var roundsRun = 0
        var plansFired = 0
        var tornTails = 0
        var acknowledgedAppends = 0
        var recoveriesCrashed = 0
        /// Mailboxes found trimmed by retention at the checks.
        var trimmedMailboxes = 0
        /// Appends that failed because their write failed (checked absent).
        var unwrittenAppends = 0
    }

    let configuration: FaultConfiguration
    let rounds: Int
    /// The plan of each round, from the configuration, the round number and a generator seeded
    /// by the seed.
    let plan: (_ configuration: FaultConfiguration, _ round: Int, _ random: inout SeededRandom) -> CrashPlan

    func run() -> Outcome {
        var outcome = Outcome()
        var random = SeededRandom(seed: configuration.seed)
        var fileSystem = SimulatedFileSystem()
        do {
            try fileSystem.createDirectoryDurably(FaultConfiguration.storeDirectory)
        } catch {
            outcome.problems.append("cannot prepare the simulated disk: \(error)")
            return outcome
        }
        let history = FaultHistory()
        var store: MailboxStore
        do {
            store = try MailboxStore.open(directory: FaultConfiguration.storeDirectory, options: configuration.storeOptions(on: fileSystem))
        } catch {
            outcome.problems.append("open of a fresh store failed: \(error)")
            return outcome
        }
        for round in 0 ..< rounds {
            let roundPlan = plan(configuration, round, &random)
            let prefix = "round \(round) (\(roundPlan))"
            let coordinator = CrashCoordinator(fileSystem: fileSystem, history: history, crashSeed: random.next())
            let result = runRound(round, plan: roundPlan, store: store, coordinator: coordinator, history: history)
            outcome.roundsRun += 1
            if result.fired { outcome.plansFired += 1 }
            outcome.problems += result.problems.map { "\(prefix): \($0)" }
            outcome.problems += history.recordedProblems.map { "\(prefix): \($0)" }
            guard outcome.problems.isEmpty, var crashed = coordinator.crashed else { break }
            if random.nextInt(below: Self.recoveryCrashOdds) == 0 {
                crashed.fileSystem = crashDuringRecovery(of: crashed.fileSystem, random: &random)
                outcome.recoveriesCrashed += 1
            }

            let reopened: MailboxStore
            do {
                reopened = try MailboxStore.open(directory: FaultConfiguration.storeDirectory, options: configuration.storeOptions(on: crashed.fileSystem))
            } catch {
                outcome.problems.append("\(prefix): reopen after the crash failed: \(error)")
                break
            }
            store = reopened
            fileSystem = crashed.fileSystem
            let report = reopened.recoveryReport
            if report.tornTail != nil { outcome.tornTails += 1 }
            if !report.isClean || !report.checkpointProblems.isEmpty {
                outcome.problems.append("\(prefix): recovery report is not clean: \(report)")
            }
            var check = RecoveredStoreCheck(store: reopened, history: history, snapshot: crashed.snapshot, users: configuration.users,
                                           retention: configuration.retentionBytes != nil)
            outcome.problems += check.run().map { "\(prefix): \($0)" }
            outcome.trimmedMailboxes += check.trimmedMailboxes
            outcome.problems += continueAfterRecovery(reopened, round: round, history: history, snapshot: crashed.snapshot, random: &random)
                .map { "\(prefix): after recovery: \($0)" }
            guard outcome.problems.isEmpty else { break }
        }
        outcome.acknowledgedAppends = history.acknowledgedCount
        outcome.unwrittenAppends = history.unwrittenIDs.count
        try? store.close()
        return outcome
    }

    /// Opens a store on `fileSystem` and cuts the power before a random change it makes to the
    /// disk while recovering or closing (at rest after it, if it makes fewer); returns the disk
    /// it leaves.
    private func crashDuringRecovery(of fileSystem: SimulatedFileSystem, random: inout SeededRandom) -> SimulatedFileSystem {
        let crashAt = 1 + random.nextInt(below: Self.recoveryOperationsMax)
        let crashSeed = random.next()
        let counter = OperationCounter()
        let result = OperationCounter.Result()
        fileSystem.faultHook = { operation, _ in
            if Self.mutatingOperations.contains(operation), counter.increment() == crashAt {
                result.set(fileSystem.crash(seed: crashSeed))
            }
            return nil
        }
        let store = try? MailboxStore.open(directory: FaultConfiguration.storeDirectory, options: configuration.storeOptions(on: fileSystem))
        try? store?.close()
        fileSystem.faultHook = nil
        return result.value ?? fileSystem.crash(seed: crashSeed)
    }

    private struct RoundResult {
        var problems: [String] = []
        var fired = false
    }

    /// Runs the workers against `store` until the plan crashes the disk (or the workers finish,
    /// then the crash is taken at rest), and closes `store`.
    private func runRound(_ round: Int, plan: CrashPlan, store: MailboxStore, coordinator: CrashCoordinator,
                          history: FaultHistory) -> RoundResult {
        var result = RoundResult()
        let tracker = PlanTracker(plan: plan, coordinator: coordinator)
        if plan.runsInFaultHook {
            coordinator.fileSystem.faultHook = { operation, path in tracker.observe(operation, path) }
        }
        defer { coordinator.fileSystem.faultHook = nil }

        let group = DispatchGroup()
        for index in 0 ..< configuration.threads {
            let worker = FaultWorker(index: index, round: round, configuration: configuration, store: store,
                                     history: history, coordinator: coordinator)
            group.enter()
            let thread = Thread {
                var running = worker
                running.run()
                group.leave()
            }
            thread.start()
        }
        if case .afterAcknowledged(let count) = plan {
            let target = history.acknowledgedCount + count
            let deadline = Date(timeIntervalSinceNow: Self.roundTimeoutSeconds)
            while history.acknowledgedCount < target, group.wait(timeout: .now()) == .timedOut, Date() < deadline {
                usleep(100)
            }
            result.fired = history.acknowledgedCount >= target
            coordinator.crashNow()
        }
        if group.wait(timeout: .now() + Self.roundTimeoutSeconds) == .timedOut {
            result.problems.append("workers did not finish within \(Int(Self.roundTimeoutSeconds)) s")
            coordinator.crashNow()
            return result
        }
        if plan.runsInFaultHook { result.fired = tracker.didFire }
        if case .afterSyncFailure = plan, tracker.didFire {
            result.problems += checkPoisoned(store, coordinator: coordinator, history: history)
        }
        coordinator.crashNow()
        try? store.close()
        return result
    }

    /// After a failed sync: nothing completed after it, the store refuses writes, and it never
    /// published a record whose sync failed.
    private func checkPoisoned(_ store: MailboxStore, coordinator: CrashCoordinator, history: FaultHistory) -> [String] {
        var problems: [String] = []
        if coordinator.successCountAfterSyncFault > 0 {
            problems.append("\(coordinator.successCountAfterSyncFault) operations succeeded after the failed sync")
        }
        let probe = NewMessage(user: UserID(1), sender: UserID(999), device: DeviceID(1), clientMessageID: ClientMessageID(UInt64.max),
                               timestampMs: 0, payload: Array("after the failed sync".utf8))
        do {
            let answer = try store.append(probe)
            problems.append("an append after the failed sync succeeded (\(answer))")
        } catch {
            if case .failedEarlier = error {} else { problems.append("an append after the failed sync failed with \(error), expected failedEarlier") }
        }
        for user in 1 ... UInt64(configuration.users) {
            let newest = store.newestSeq(user: UserID(user)).rawValue
            let acknowledged = history.newestAcknowledgedSeq(user: user)
            if newest != acknowledged {
                problems.append("user \(user): the poisoned store shows newest seq \(newest), acknowledged \(acknowledged)")
            }
        }
        return problems
    }

    /// The recovered store continues each mailbox's sequence and still knows acknowledged
    /// appends (a retry answers the original seq).
    private func continueAfterRecovery(_ store: MailboxStore, round: Int, history: FaultHistory,
                                       snapshot: FaultHistory.Snapshot, random: inout SeededRandom) -> [String] {
        var problems: [String] = []
        for user in 1 ... UInt64(configuration.users) {
            let newest = store.newestSeq(user: UserID(user))
            let id = UInt64(round) << FaultWorker.roundShift | 255 << FaultWorker.workerShift | user
            let message = NewMessage(user: UserID(user), sender: UserID(999), device: DeviceID(1), clientMessageID: ClientMessageID(id),
                                     timestampMs: 1_700_000_000_000, payload: Array("user=\(user) cmid=\(id); after recovery".utf8))
            history.submit([message])
            do {
                let answer = try store.append(message)
                history.complete([message], .success([answer]))
                if answer != AppendResult(seq: Seq(newest.rawValue + 1), duplicate: false) {
                    problems.append("user \(user): append answered \(answer), newest was \(newest)")
                }
            } catch {
                problems.append("user \(user): append failed: \(error)")
            }
        }
        let acknowledged = snapshot.acknowledged.keys.sorted()
        for _ in 0 ..< min(Self.retriesAfterRecovery, acknowledged.count) {
            let id = acknowledged[random.nextInt(below: acknowledged.count)]
            guard let message = history.submittedMessage(id), let expected = snapshot.acknowledged[id] else { continue }
            do {
                let answer = try store.append(message)
                if answer != AppendResult(seq: Seq(expected.seq), duplicate: true) {
                    problems.append("retry of acknowledged cmid \(id) (seq \(expected.seq)) answered \(answer)")
                }
            } catch {
                problems.append("retry of cmid \(id) failed: \(error)")
            }
        }
        return problems
    }
}
