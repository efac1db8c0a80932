// seqboxd: until the network server lands, a short demonstration of the embedded store:
// open a store under --data (default ./data), append a few messages, read them back.
import SeqboxFormat
import SeqboxStore
#if canImport(Glibc)
import Glibc
#endif

func runDemo(arguments: [String]) -> Int32 {
    var directory = "./data"
    var index = 1
    while index < arguments.count {
        switch arguments[index] {
        case "--data":
            guard index + 1 < arguments.count else { print("seqboxd: --data needs a directory"); return 2 }
            directory = arguments[index + 1]
            index += 2
        case "--help", "-h":
            print("usage: seqboxd [--data DIR]\nOpens the store in DIR (default ./data), appends three messages to user 1, reads them back.")
            return 0
        default:
            print("seqboxd: unknown argument \(arguments[index]) (try --help)")
            return 2
        }
    }
    do {
        let store = try MailboxStore.open(directory: directory)
        print("opened \(directory): \(store.recoveryReport)")
        let before = store.newestSeq(user: UserID(1))
        let now = wallClockMilliseconds()
        let base = UInt64(before.rawValue)
        let messages = (1 ... 3).map { n in
            NewMessage(user: UserID(1), sender: UserID(2), device: DeviceID(1), clientMessageID: ClientMessageID(base + UInt64(n)),
                       timestampMs: now, payload: Array("hello #\(base + UInt64(n)) from user 2".utf8))
        }
        let results = try store.append(batch: messages)
        print("appended to user 1: seqs \(results.map(\.description).joined(separator: ", ")) (durable: sync)")
        let read = try store.read(user: UserID(1), after: before, limit: 100)
        for message in read.messages {
            print("  seq \(message.seq) from \(message.sender): \(String(decoding: message.payload, as: UTF8.self))")
        }
        try store.ack(user: UserID(1), device: DeviceID(1), seq: read.newestSeq)
        print("device 1 acknowledged seq \(store.cursor(user: UserID(1), device: DeviceID(1))); newest seq \(read.newestSeq)")
        try store.close()
        print("closed cleanly")
        return 0
    } catch {
        print("seqboxd: \(error)")
        return 1
    }
}

exit(runDemo(arguments: CommandLine.arguments))
