import SeqboxFormat
import SeqboxStore

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

/// A message as both engines receive it.
struct BenchMessage: Sendable {
    var user: UInt64
    var sender: UInt64
    var clientMessageID: UInt64
    var payload: [UInt8]
    /// The fixed device and timestamp of every benchmark message.
    static let device: UInt64 = 1
    static let timestampMs: UInt64 = 1_700_000_000_000

    var seqboxMessage: NewMessage {
        NewMessage(user: UserID(user), sender: UserID(sender), device: DeviceID(Self.device),
                   clientMessageID: ClientMessageID(clientMessageID), timestampMs: Self.timestampMs, payload: payload)
    }
}

/// Text-like payloads: words of a small English vocabulary with spaces and punctuation, so
/// they compress about as well as chat text does (a little).
enum TextPayload {
    static let vocabulary: [String] = """
        the be to of and a in that have I it for not on with he as you do at this but his by from \
        they we say her she or an will my one all would there their what so up out if about who get \
        which go me when make can like time no just him know take people into year your good some \
        could them see other than then now look only come its over think also back after use two how \
        our work first well way even new want because any these give day most us ok yes sure thanks \
        tonight tomorrow meeting dinner lunch coffee call later soon home office train bus late sorry \
        great cool fine love miss photo video link sent send check read reply here where why okay \
        haha lol weekend monday friday morning evening birthday party movie game ticket price plan
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    static let punctuation: [String] = [".", ",", "!", "?", " :)", "..."]

    static func make(bytes count: Int, random: inout BenchRandom) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(count + 16)
        var capitalize = true
        while text.count < count {
            var word = Array(vocabulary[random.below(vocabulary.count)].utf8)
            if capitalize, let first = word.first, first >= 97, first <= 122 { word[0] = first - 32 }
            capitalize = false
            text.append(contentsOf: word)
            if random.below(6) == 0 {
                text.append(contentsOf: Array(punctuation[random.below(punctuation.count)].utf8))
                capitalize = true
            }
            text.append(32)
        }
        return Array(text.prefix(count))
    }
}
