import Foundation
import SeqboxFormat
import SeqboxStore
import XCTest

/// A small store built with the real `MailboxStore` for the tool tests: tiny segments (so there
/// are several), a fixed clock and fixed message timestamps (so dumps are deterministic), and
/// functions for byte surgery on its files.
final class StoreFixture {
    static let timestampMs: UInt64 = 1_700_000_000_000
    static let segmentBytes = 4096

    let directory: String
    var logDirectory: String { directory + "/log" }
    /// Every message appended, by user, in seq order.
    private(set) var messages: [UInt64: [NewMessage]] = [:]

    init(name: String) {
        directory = NSTemporaryDirectory() + "seqbox-tools-\(name)-\(UUID().uuidString)"
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    static func options(segmentBytes: Int = StoreFixture.segmentBytes) -> StoreOptions {
        var options = StoreOptions()
        options.segmentBytes = segmentBytes
        options.clock = { StoreFixture.timestampMs }
        return options
    }

    /// Retention applied by `open` (nil: keep everything).
    var retention: RetentionPolicy?

    func open(policy: CorruptionPolicy = .refuse) throws -> MailboxStore {
        var options = Self.options()
        options.corruptionPolicy = policy
        if let retention { options.retention = retention }
        return try MailboxStore.open(directory: directory, options: options)
    }

    static func message(user: UInt64, index: Int) -> NewMessage {
        // Every fifth message is long and repetitive, so it is stored compressed.
        let text = index % 5 == 4 ? String(repeating: "compressible text \(user) ", count: 12)
            : "message \(index) to \(user): " + String.letters(count: 60, seed: UInt64(index))
        return NewMessage(user: UserID(user), sender: UserID(100 + UInt64(index % 2)), device: DeviceID(7),
                          clientMessageID: ClientMessageID(UInt64(index + 1)), timestampMs: timestampMs + UInt64(index),
                          payload: Array(text.utf8), outgoing: index % 7 == 6)
    }

    /// Appends `count` messages round-robin to users 1, 2, 3, with a few acks and a block,
    /// then closes the store (which writes a checkpoint).
    @discardableResult
    func build(count: Int = 170) throws -> Self {
        let store = try open()
        for index in 0 ..< count {
            let message = Self.message(user: UInt64(1 + index % 3), index: index)
            let result = try store.append(message)
            messages[message.user.rawValue, default: []].append(message)
            XCTAssertEqual(result.seq.rawValue, UInt32(messages[message.user.rawValue]!.count))
            if index == count / 2 {
                try store.ack(user: UserID(1), device: DeviceID(7), seq: Seq(UInt32(min(5, messages[1]?.count ?? 0))))
                try store.ack(user: UserID(2), device: DeviceID(8), seq: Seq(UInt32(min(3, messages[2]?.count ?? 0))))
                try store.block(user: UserID(3), blocked: UserID(666))
            }
        }
        try store.close()
        return self
    }

    /// Appends `count` more messages and replaces the store with a copy taken while it was
    /// open: the image a crash leaves (no checkpoint covers those appends).
    func crashImage(appending count: Int) throws {
        let store = try open()
        let start = messages.values.reduce(0) { $0 + $1.count }
        for index in start ..< start + count {
            let message = Self.message(user: UInt64(1 + index % 3), index: index)
            _ = try store.append(message)
            messages[message.user.rawValue, default: []].append(message)
        }
        let image = directory + "-image"
        try FileManager.default.copyItem(atPath: directory, toPath: image)
        try store.close()
        try FileManager.default.removeItem(atPath: directory)
        try FileManager.default.moveItem(atPath: image, toPath: directory)
    }

    /// Drops `user`'s newest message from the expected content (a torn write took it).
    func forget(user: UInt64, seq: UInt32) {
        XCTAssertEqual(messages[user]?.count, Int(seq), "only the newest message can be forgotten")
        messages[user]?.removeLast()
    }

    // MARK: Files

    var segmentNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: logDirectory)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
    }

    var checkpointNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: logDirectory)) ?? []).filter { $0.hasSuffix(".ckpt") }.sorted()
    }

    func path(_ name: String) -> String { logDirectory + "/" + name }

    func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path(name)))) }

    func write(_ bytes: [UInt8], to name: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path(name))) }

    /// Changes bytes of a file in place.
    func patch(_ name: String, _ change: (inout [UInt8]) -> Void) throws {
        var content = try bytes(name)
        change(&content)
        try write(content, to: name)
    }

    /// The records of a segment file with their offsets, read with the store's scanner.
    func records(in name: String) throws -> [(offset: Int, header: RecordHeader)] {
        let content = try bytes(name)
        let base = LogPosition(UInt64(name.dropLast(4))!)
        return content.withUnsafeBytes { raw in
            var scanner = SegmentScanner(bytes: raw, base: base)
            var found: [(Int, RecordHeader)] = []
            while let event = scanner.next() {
                if case .record(let offset, let header) = event { found.append((offset, header)) }
            }
            return found
        }
    }

    /// The end of the last valid record of a segment.
    func dataEnd(of name: String) throws -> Int {
        try records(in: name).last.map { $0.offset + $0.header.recordSize } ?? FormatConstants.segmentHeaderSize
    }

    // MARK: Checks on the store

    /// Opens the store and checks that every appended message not in `lost` reads back with
    /// its payload, and that lost seqs read as lost or lie beyond the newest seq.
    func assertHoldsIntactRecords(lost: [UInt64: ClosedRange<UInt32>] = [:], file: StaticString = #filePath, line: UInt = #line) throws {
        let store = try open()
        defer { try? store.close() }
        XCTAssertTrue(store.recoveryReport.isClean, "store reports \(store.recoveryReport.summary)", file: file, line: line)
        for (user, list) in messages {
            var after: UInt32 = 0
            var checked = 0
            var rounds = 0
            while after < UInt32(list.count), rounds < list.count + 10 {
                rounds += 1
                let page = try store.read(user: UserID(user), after: Seq(after), limit: 100)
                if case .lost(let first, let last) = page.status {
                    XCTAssertEqual(first.rawValue ... last.rawValue, lost[user], "user \(user)", file: file, line: line)
                    after = last.rawValue
                    continue
                }
                if page.messages.isEmpty { break }
                for message in page.messages {
                    let original = list[Int(message.seq.rawValue) - 1]
                    XCTAssertEqual(message.payload, original.payload, "user \(user) seq \(message.seq)", file: file, line: line)
                    XCTAssertEqual(message.clientMessageID, original.clientMessageID, file: file, line: line)
                    checked += 1
                }
                after = page.messages.last!.seq.rawValue
            }
            let expected = list.count - (lost[user].map { $0.count } ?? 0)
            XCTAssertEqual(checked, expected, "user \(user): intact records read back", file: file, line: line)
        }
    }
}

extension String {
    /// `count` pseudo-random lowercase letters from a fixed linear congruential sequence:
    /// payloads that do not compress, without randomness.
    static func letters(count: Int, seed: UInt64) -> String {
        var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        var scalars = String.UnicodeScalarView()
        for _ in 0 ..< count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            scalars.append(Unicode.Scalar(UInt8(97 + (state >> 33) % 26)))
        }
        return String(scalars)
    }
}
