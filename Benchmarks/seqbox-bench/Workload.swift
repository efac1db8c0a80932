/// The fixed benchmark workload (BENCHMARKS.md "Workload"): users numbered 1...users,
/// recipients and senders uniform at random, text-like payloads of `payloadBytes` bytes drawn
/// from a pool generated from `seed`. The same seed gives both engines the same messages.
struct Workload: Sendable {
    static let defaultSeed: UInt64 = 0x5345_5142_4F58_0001
    static let payloadBytes = 150
    /// Distinct payloads in the pool; message payloads are drawn from it.
    static let payloadPoolSize = 4096

    let users: Int
    let seed: UInt64
    let payloads: [[UInt8]]

    init(users: Int, seed: UInt64) {
        self.users = users
        self.seed = seed
        var random = BenchRandom(seed: seed, stream: 0xFA11_0AD5)
        payloads = (0 ..< Self.payloadPoolSize).map { _ in TextPayload.make(bytes: Self.payloadBytes, random: &random) }
    }

    /// Message `index` of the data set the read and open scenarios load: a pure function of
    /// the index, so an engine can load the same messages in any order.
    func message(index: Int) -> BenchMessage {
        var random = BenchRandom(seed: seed, stream: UInt64(index) | 1 << 48)
        let user = UInt64(random.below(users) + 1)
        let sender = UInt64(random.below(users) + 1)
        return BenchMessage(user: user, sender: sender, clientMessageID: UInt64(index) + 1, payload: payloads[random.below(payloads.count)])
    }

    /// The message stream of one appender: independent per `stream`, identical across engines.
    func stream(_ stream: Int) -> MessageStream {
        MessageStream(workload: self, random: BenchRandom(seed: seed, stream: UInt64(stream) + 1), stream: stream)
    }
}

/// One appender's deterministic sequence of messages.
struct MessageStream {
    let workload: Workload
    var random: BenchRandom
    let stream: Int
    private var counter: UInt64 = 0

    init(workload: Workload, random: BenchRandom, stream: Int) {
        self.workload = workload
        self.random = random
        self.stream = stream
    }

    /// The next message: a uniform recipient, a uniform sender, a pooled payload and a
    /// client message id unique across streams.
    mutating func next() -> BenchMessage {
        counter += 1
        let user = UInt64(random.below(workload.users) + 1)
        let sender = UInt64(random.below(workload.users) + 1)
        let payload = workload.payloads[random.below(workload.payloads.count)]
        return BenchMessage(user: user, sender: sender, clientMessageID: UInt64(stream) << 40 | counter, payload: payload)
    }
}
