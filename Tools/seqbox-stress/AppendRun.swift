#if canImport(Glibc)
import Glibc
#endif
import SeqboxFormat
import SeqboxStore
import Synchronization

/// `seqbox-stress append`: T threads append self-describing messages to random mailboxes in
/// `sync` mode and print "ack USER SEQ CMID" for each acknowledged one.
final class AppendRun: Sendable {
    let options: StressOptions
    let store: MailboxStore
    let runID: UInt64
    let deadline: Double
    /// Messages still allowed (with --max-messages); reserved before each append.
    private let budget: Atomic<Int>
    private let appended = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let failure = Mutex<String?>(nil)

    init(options: StressOptions, store: MailboxStore, runID: UInt64) {
        self.options = options
        self.store = store
        self.runID = runID
        deadline = Self.now() + options.seconds
        budget = Atomic(options.maxMessages ?? Int.max)
    }

    /// Runs the threads to the end; returns the first store error, if any.
    func run() -> String? {
        let started = Self.now()
        var threads: [pthread_t] = []
        for index in 0 ..< options.threads {
            threads.append(spawnThread { self.appendLoop(thread: index) })
        }
        for thread in threads { pthread_join(thread, nil) }
        let elapsed = Self.now() - started
        let count = appended.load(ordering: .acquiring)
        StandardStreams.error("appended \(count) messages in \(formatted(elapsed)) s (\(Int(Double(count) / max(elapsed, 1e-9)))/s) from \(options.threads) threads, run \(runID)")
        return failure.withLock { $0 }
    }

    private func appendLoop(thread: Int) {
        var random = SeededRandom(seed: (options.seed ?? runID) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(thread))
        let sender = UserID(100_000 + UInt64(thread))
        let device = DeviceID(runID)
        for counter in 1 ... StressOptions.messagesPerThreadMax {
            if stopped.load(ordering: .relaxed) || Self.now() >= deadline { return }
            if budget.subtract(1, ordering: .relaxed).newValue < 0 { return }
            let user = 1 + UInt64(random.nextInt(below: options.users))
            let clientMessageID = runID << 32 | UInt64(thread) << 24 | UInt64(counter)
            let prefixBytes = StressPayload.prefix(user: user, clientMessageID: clientMessageID).count
            let size = prefixBytes + random.nextInt(below: max(options.payloadBytes - prefixBytes, 0) + 1)
            let message = NewMessage(user: UserID(user), sender: sender, device: device, clientMessageID: ClientMessageID(clientMessageID),
                                     timestampMs: wallClockMilliseconds(),
                                     payload: StressPayload.make(user: user, clientMessageID: clientMessageID, size: size))
            do {
                let result = try store.append(message)
                appended.add(1, ordering: .relaxed)
                StandardStreams.writeLine("ack \(user) \(result.seq) \(clientMessageID)")
            } catch {
                failure.withLock { $0 = $0 ?? "append to user \(user) failed: \(error)" }
                stopped.store(true, ordering: .relaxed)
                return
            }
        }
    }

    private static func now() -> Double { Double(monotonicNanoseconds()) / 1e9 }

    private func formatted(_ seconds: Double) -> String {
        let hundredths = Int((seconds * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }
}

/// Starts a pthread running `body`.
func spawnThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body))
    var thread = pthread_t()
    let created = pthread_create(&thread, nil, { argument in
        let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
        box.body()
        return nil
    }, box.toOpaque())
    precondition(created == 0, "pthread_create failed with \(created)")
    return thread
}
