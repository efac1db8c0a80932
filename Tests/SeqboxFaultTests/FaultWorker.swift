import Foundation
import SeqboxFormat
import SeqboxStore

/// One thread of a fault scenario: appends (with several in flight), acks, blocks, unblocks,
/// reads, checkpoints, retention and rolls against the store, recording everything in the history, until
/// its budget is spent or the coordinator says stop.
struct FaultWorker {
    /// Client message ids: round << roundShift | worker << workerShift | counter.
    static let roundShift: UInt64 = 48
    static let workerShift: UInt64 = 32
    /// How long a worker waits for its appends' completions before calling the store stuck.
    static let completionWaitSeconds: TimeInterval = 30

    let index: Int
    let round: Int
    let configuration: FaultConfiguration
    let store: MailboxStore
    let history: FaultHistory
    let coordinator: CrashCoordinator
    var random: SeededRandom
    private var counter: UInt64 = 0
    private let inFlight = InFlightCounter()

    init(index: Int, round: Int, configuration: FaultConfiguration, store: MailboxStore, history: FaultHistory,
         coordinator: CrashCoordinator) {
        self.index = index
        self.round = round
        self.configuration = configuration
        self.store = store
        self.history = history
        self.coordinator = coordinator
        random = SeededRandom(seed: configuration.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(round << 8 | index))
    }

    var sender: UserID { UserID(1000 + UInt64(index)) }

    mutating func run() {
        for _ in 0 ..< configuration.operationsPerThread {
            if coordinator.isStopping { break }
            switch random.nextInt(below: 100) {
            case 0 ..< 70: appendBatch()
            case 70 ..< 82: acknowledge()
            case 82 ..< 92: blockOrUnblock()
            case 92 ..< 97: readBack()
            case 97: control { (store) throws(StoreError) in try store.checkpoint() }
            case 98: control { (store) throws(StoreError) in try store.applyRetention() }
            default: control { (store) throws(StoreError) in try store.rollSegment() }
            }
        }
        if !inFlight.waitUntilZero(timeoutSeconds: Self.completionWaitSeconds) {
            history.noteProblem("worker \(index): appends still uncompleted after \(Int(Self.completionWaitSeconds)) s")
        }
    }

    private mutating func randomUser() -> UInt64 { 1 + UInt64(random.nextInt(below: configuration.users)) }

    private mutating func nextClientMessageID() -> UInt64 {
        counter += 1
        return UInt64(round) << Self.roundShift | UInt64(index) << Self.workerShift | counter
    }

    private mutating func appendBatch() {
        let count = random.nextInt(below: 5) == 0 ? 2 + random.nextInt(below: 3) : 1
        var messages: [NewMessage] = []
        for _ in 0 ..< count {
            let user = randomUser()
            let id = nextClientMessageID()
            let size = FaultPayload.randomSize(&random, max: configuration.payloadBytesMax)
            messages.append(NewMessage(user: UserID(user), sender: sender, device: DeviceID(1), clientMessageID: ClientMessageID(id),
                                       timestampMs: 1_700_000_000_000 + UInt64(id & 0xFFFF),
                                       payload: FaultPayload.make(user: user, clientMessageID: id, size: size, random: &random),
                                       outgoing: random.nextInt(below: 8) == 0))
        }
        history.submit(messages)
        inFlight.enter()
        let history = history, coordinator = coordinator, inFlight = inFlight, index = index, batch = messages
        store.append(batch: messages) { result in
            // Runs on the writer thread: recorded before the writer moves on, so before any crash
            // it could cause later.
            history.complete(batch, result)
            switch result {
            case .success: coordinator.noteSuccess()
            case .failure(let error):
                if !coordinator.isExpected(error) { history.noteProblem("worker \(index): append failed before any fault: \(error)") }
                if case .io = error, !coordinator.isStopping { history.noteUnwritten(batch) }
            }
            inFlight.leave()
        }
        if !inFlight.waitUntilBelow(configuration.inFlightMax, timeoutSeconds: Self.completionWaitSeconds) {
            history.noteProblem("worker \(index): appends still uncompleted after \(Int(Self.completionWaitSeconds)) s")
        }
    }

    private mutating func acknowledge() {
        let user = randomUser()
        let newest = history.newestAcknowledgedSeq(user: user)
        guard newest > 0 else { return appendBatch() }
        let seq = 1 + UInt32(random.nextInt(below: Int(newest)))
        let device = 100 + UInt64(index)
        history.submitAck(user: user, device: device, seq: seq)
        let done = InFlightCounter()
        done.enter()
        let history = history, coordinator = coordinator, index = index
        store.ack(user: UserID(user), device: DeviceID(device), seq: Seq(seq)) { result in
            switch result {
            case .success:
                history.completeAck(user: user, device: device, seq: seq)
                coordinator.noteSuccess()
            case .failure(let error):
                if !coordinator.isExpected(error) { history.noteProblem("worker \(index): ack failed before any fault: \(error)") }
            }
            done.leave()
        }
        if !done.waitUntilZero(timeoutSeconds: Self.completionWaitSeconds) {
            history.noteProblem("worker \(index): ack never completed")
        }
    }

    private mutating func blockOrUnblock() {
        let user = randomUser()
        let blocked = FaultConfiguration.blockedUserBase + UInt64(index * 4 + random.nextInt(below: 4))
        let value = random.nextInt(below: 3) != 0
        let operation = history.submitBlock(user: user, blocked: blocked, value: value)
        do {
            if value {
                try store.block(user: UserID(user), blocked: UserID(blocked))
            } else {
                try store.unblock(user: UserID(user), blocked: UserID(blocked))
            }
            // No `noteSuccess` here: this runs on the worker thread after the store's completion,
            // so it may follow a later sync failure without being a late success.
            history.completeBlock(user: user, blocked: blocked, index: operation)
        } catch {
            if !coordinator.isExpected(error) { history.noteProblem("worker \(index): block/unblock failed before any fault: \(error)") }
        }
    }

    /// Reads part of a mailbox: it must be a contiguous run of what was submitted.
    private mutating func readBack() {
        let user = randomUser()
        let info = store.mailboxInfo(user: UserID(user))
        let oldest = info.firstAvailable.rawValue - 1
        let newest = info.newestSeq.rawValue
        let after = newest <= oldest ? newest : oldest + UInt32(random.nextInt(below: Int(newest - oldest)))
        do {
            let result = try store.read(user: UserID(user), after: Seq(after), limit: 50)
            if case .truncated = result.status, configuration.retentionBytes != nil { return }  // retention ran meanwhile
            guard result.status == .ok else {
                return history.noteProblem("worker \(index): read of user \(user) after \(after) answered \(result.status)")
            }
            for (offset, message) in result.messages.enumerated() {
                if message.seq.rawValue != after + 1 + UInt32(offset) {
                    return history.noteProblem("worker \(index): read of user \(user) after \(after) skipped to seq \(message.seq)")
                }
                let submitted = history.submittedMessage(message.clientMessageID.rawValue)
                if submitted?.payload != message.payload || submitted?.user.rawValue != user {
                    return history.noteProblem("worker \(index): user \(user) seq \(message.seq) holds a payload nobody sent there")
                }
            }
        } catch {
            if !coordinator.isExpected(error) { history.noteProblem("worker \(index): read failed: \(error)") }
        }
    }

    private func control(_ body: (MailboxStore) throws(StoreError) -> Void) {
        do {
            try body(store)
        } catch {
            if !coordinator.isExpected(error) { history.noteProblem("worker \(index): checkpoint/retention/roll failed before any fault: \(error)") }
        }
    }
}
