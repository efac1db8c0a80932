#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxFormat
import SeqboxProtocol
import Synchronization
import XCTest
@testable import SeqboxServer

/// The durable push state (DATA/push/journal): registrations and the outbox survive reopening,
/// torn tails are dropped, the journal is compacted, and the rules of `PushDurableState`.
final class PushStateTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "seqbox-push-state-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private var journalPath: String { directory + "/" + PushJournal.fileName }

    private func open(log: ServerLog = .silent) throws -> PushStateStore {
        try PushStateStore.open(directory: directory, log: log)
    }

    /// Registers and waits for the durable answer.
    private func register(_ store: PushStateStore, user: UInt64, device: UInt64, token: [UInt8], platform: PushPlatform = .apns) -> Bool {
        let done = PthreadLocked<Bool?>(nil)
        store.register(user: UserID(user), device: PushDevice(device: DeviceID(device), platform: platform, token: token)) { ok in
            done.withLock { $0 = ok }
        }
        for _ in 0 ..< 5000 {
            if let ok = done.withLock({ $0 }) { return ok }
            usleep(1_000)
        }
        return false
    }

    private func unregister(_ store: PushStateStore, user: UInt64, device: UInt64) -> Bool {
        let done = PthreadLocked<Bool?>(nil)
        store.unregister(user: UserID(user), device: DeviceID(device)) { ok in done.withLock { $0 = ok } }
        for _ in 0 ..< 5000 {
            if let ok = done.withLock({ $0 }) { return ok }
            usleep(1_000)
        }
        return false
    }

    private func tip(_ user: UInt64, _ seq: UInt32, sender: UInt64 = 1) -> PushTip {
        PushTip(user: UserID(user), newestSeq: Seq(seq), epoch: 1, sender: UserID(sender))
    }

    func testRegistrationsAndPendingTipsSurviveReopening() throws {
        let store = try open()
        XCTAssertTrue(register(store, user: 2, device: 1, token: apnsToken(1)))
        XCTAssertTrue(register(store, user: 2, device: 2, token: Array("fcm:token".utf8), platform: .fcm))
        XCTAssertTrue(register(store, user: 3, device: 1, token: apnsToken(3)))
        XCTAssertTrue(unregister(store, user: 3, device: 1))
        store.recordTip(tip(2, 5))
        store.recordTip(tip(4, 1))
        store.recordTip(tip(2, 7, sender: 9))
        store.recordTip(tip(5, 2))
        store.recordTipDone(user: UserID(4), seq: Seq(1))
        store.recordTipDone(user: UserID(5), seq: Seq(1))
        store.close()

        let reopened = try open()
        defer { reopened.close() }
        XCTAssertEqual(reopened.devices(of: UserID(2)).map(\.device), [DeviceID(1), DeviceID(2)])
        XCTAssertEqual(reopened.devices(of: UserID(2)).map(\.token), [apnsToken(1), Array("fcm:token".utf8)])
        XCTAssertEqual(reopened.devices(of: UserID(2)).map(\.platform), [.apns, .fcm])
        XCTAssertTrue(reopened.devices(of: UserID(3)).isEmpty)
        XCTAssertEqual(reopened.recoveredTips, [tip(2, 7, sender: 9), tip(5, 2)], "oldest first; a done tip up to its seq only")
    }

    func testARegistrationIsOnDiskWhenItsCompletionRuns() throws {
        let store = try open()
        XCTAssertTrue(register(store, user: 2, device: 1, token: apnsToken(1)))
        // Read the file as another process would after a crash now, without closing the store.
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: journalPath))
        let (entries, _) = [UInt8](bytes).withUnsafeBytes { PushJournal.readEntries($0) }
        XCTAssertEqual(entries, [.register(UserID(2), PushDevice(device: DeviceID(1), platform: .apns, token: apnsToken(1)))])
        store.close()
    }

    func testATornTailIsDroppedAndLoggedAndTheEntriesBeforeItKept() throws {
        let store = try open()
        XCTAssertTrue(register(store, user: 2, device: 1, token: apnsToken(1)))
        store.recordTip(tip(2, 3))
        store.close()
        // A crash mid-append: half of another entry, then a flipped checksum byte variant.
        var writer = ByteWriter()
        PushJournal.encode([.register(UserID(7), PushDevice(device: DeviceID(1), platform: .apns, token: apnsToken(7)))], into: &writer)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: journalPath))
        handle.seekToEndOfFile()
        handle.write(Data(writer.bytes.prefix(writer.bytes.count / 2)))
        try handle.close()
        let tornSize = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: journalPath)[.size] as? Int)

        let logPath = directory + "-log.txt"
        let descriptor = Glibc.open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer { Glibc.close(descriptor); try? FileManager.default.removeItem(atPath: logPath) }
        let reopened = try open(log: ServerLog(level: .debug, descriptor: descriptor))
        XCTAssertEqual(reopened.devices(of: UserID(2)).count, 1)
        XCTAssertTrue(reopened.devices(of: UserID(7)).isEmpty)
        XCTAssertEqual(reopened.recoveredTips, [tip(2, 3)])
        reopened.close()
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        XCTAssertTrue(log.contains("event=push_state_tail_dropped"), log)
        let rewrittenSize = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: journalPath)[.size] as? Int)
        XCTAssertLessThan(rewrittenSize, tornSize, "the torn bytes are gone from the file")
    }

    func testAnEntryWithABadChecksumEndsTheJournal() throws {
        let store = try open()
        XCTAssertTrue(register(store, user: 2, device: 1, token: apnsToken(1)))
        XCTAssertTrue(register(store, user: 3, device: 1, token: apnsToken(3)))
        store.close()
        // Flip the last byte: the second entry's checksum.
        var bytes = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: journalPath)))
        bytes[bytes.count - 1] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: journalPath))
        let reopened = try open()
        defer { reopened.close() }
        XCTAssertEqual(reopened.devices(of: UserID(2)).count, 1)
        XCTAssertTrue(reopened.devices(of: UserID(3)).isEmpty)
    }

    func testAFileThatIsNotAPushJournalIsMovedAsideAndTheStateStartsEmpty() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data("definitely not a journal".utf8).write(to: URL(fileURLWithPath: journalPath))
        let store = try open()
        defer { store.close() }
        XCTAssertEqual(store.deviceCount, 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        XCTAssertTrue(names.contains { $0.hasPrefix(PushJournal.fileName + ".unreadable-") }, "\(names)")
        XCTAssertTrue(register(store, user: 2, device: 1, token: apnsToken(1)))
    }

    func testAJournalOfANewerVersionIsLeftAloneAndRefused() throws {
        let store = try open()
        store.close()
        var bytes = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: journalPath)))
        bytes[8] = 2
        try Data(bytes).write(to: URL(fileURLWithPath: journalPath))
        XCTAssertThrowsError(try open()) { XCTAssertTrue($0 is PushJournal.UnsupportedVersion, "\($0)") }
        XCTAssertEqual([UInt8](try XCTUnwrap(FileManager.default.contents(atPath: journalPath))), bytes)
    }

    func testTheJournalIsCompactedAsTheOutboxChurns() throws {
        let store = try open()
        XCTAssertTrue(register(store, user: 2, device: 1, token: apnsToken(1)))
        // 60,000 enqueue/done pairs write about 2 MiB of entries; compaction keeps the file near
        // its live size.
        for seq in 1 ... 60_000 {
            store.recordTip(tip(UInt64(100 + seq % 50), UInt32(seq)))
            store.recordTipDone(user: UserID(UInt64(100 + seq % 50)), seq: Seq(UInt32(seq)))
            if seq % 5_000 == 0 { store.flush() }
        }
        store.recordTip(tip(2, 9))
        store.flush()
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: journalPath)[.size] as? Int)
        XCTAssertLessThanOrEqual(Int64(size), PushStateStore.compactionBytesMin + 64 * 1024)
        store.close()
        let reopened = try open()
        defer { reopened.close() }
        XCTAssertEqual(reopened.recoveredTips, [tip(2, 9)])
        XCTAssertEqual(reopened.devices(of: UserID(2)).count, 1)
    }

    func testAnUnregisteredTokenLeavesTheFileAtTheNextCompaction() throws {
        let secret: [UInt8] = Array("unregister-me-please-0123456789".utf8)
        let store = try PushStateStore.open(directory: directory, log: .silent, erasureDelayMs: 20)
        XCTAssertTrue(register(store, user: 2, device: 1, token: secret))
        XCTAssertTrue(register(store, user: 3, device: 1, token: apnsToken(3)))
        XCTAssertTrue(fileContains(secret))
        XCTAssertTrue(unregister(store, user: 2, device: 1))
        let deadline = Date().addingTimeInterval(10)
        while fileContains(secret) && Date() < deadline { usleep(5_000) }
        XCTAssertFalse(fileContains(secret), "erased within the erasure delay")
        XCTAssertTrue(fileContains(apnsToken(3)))
        store.close()
    }

    func testAReplacedTokenIsErasedAtCloseAtTheLatest() throws {
        let secret: [UInt8] = Array("replace-me-please-0123456789".utf8)
        let store = try open()
        XCTAssertTrue(register(store, user: 2, device: 1, token: secret))
        XCTAssertTrue(register(store, user: 2, device: 1, token: apnsToken(4)))
        store.close()
        XCTAssertFalse(fileContains(secret))
        let reopened = try open()
        defer { reopened.close() }
        XCTAssertEqual(reopened.devices(of: UserID(2)).map(\.token), [apnsToken(4)])
    }

    private func fileContains(_ needle: [UInt8]) -> Bool {
        guard let data = FileManager.default.contents(atPath: journalPath) else { return false }
        let bytes = [UInt8](data)
        guard bytes.count >= needle.count else { return false }
        return (0 ... bytes.count - needle.count).contains { bytes[$0 ..< $0 + needle.count].elementsEqual(needle) }
    }

    func testOneProcessAtATimeHoldsThePushState() throws {
        let store = try open()
        XCTAssertThrowsError(try open()) { XCTAssertTrue($0 is PushJournal.Locked, "\($0)") }
        store.close()
        try open().close()
    }

    func testChangesAfterCloseAreRefused() throws {
        let store = try open()
        store.close()
        XCTAssertFalse(register(store, user: 2, device: 1, token: apnsToken(1)))
    }

    // MARK: PushDurableState

    func testReRegisteringADeviceReplacesItsTokenAndATokenHasOneHolder() {
        var state = PushDurableState()
        state.apply(.register(UserID(2), PushDevice(device: DeviceID(1), platform: .apns, token: [1])))
        state.apply(.register(UserID(2), PushDevice(device: DeviceID(1), platform: .apns, token: [2])))
        XCTAssertEqual(state.devices[UserID(2)]?.map(\.token), [[2]])
        state.apply(.register(UserID(3), PushDevice(device: DeviceID(5), platform: .apns, token: [2])))
        XCTAssertNil(state.devices[UserID(2)], "the token moved to the account that registered it last")
        XCTAssertEqual(state.devices[UserID(3)]?.map(\.device), [DeviceID(5)])
        // The same bytes on another platform are another token.
        state.apply(.register(UserID(4), PushDevice(device: DeviceID(1), platform: .fcm, token: [2])))
        XCTAssertEqual(state.deviceCount, 2)
    }

    func testAUserKeepsAtMostTheNewestDevicesPerUserMax() {
        var state = PushDurableState()
        let count = PushDurableState.devicesPerUserMax + 3
        for device in 1 ... count {
            state.apply(.register(UserID(2), PushDevice(device: DeviceID(UInt64(device)), platform: .apns, token: [UInt8(device)])))
        }
        XCTAssertEqual(state.devices[UserID(2)]?.map(\.device.rawValue), Array(4 ... UInt64(count)))
        XCTAssertEqual(state.deviceCount, PushDurableState.devicesPerUserMax)
    }

    func testTheSnapshotRebuildsTheSameState() {
        var state = PushDurableState()
        state.apply(.register(UserID(2), PushDevice(device: DeviceID(1), platform: .apns, token: [1])))
        state.apply(.register(UserID(3), PushDevice(device: DeviceID(1), platform: .fcm, token: [0x41])))
        state.apply(.tipEnqueued(tip(3, 4)))
        state.apply(.tipEnqueued(tip(2, 1)))
        var rebuilt = PushDurableState()
        for entry in state.snapshot { rebuilt.apply(entry) }
        XCTAssertEqual(rebuilt.devices.mapValues { $0 }, state.devices)
        XCTAssertEqual(rebuilt.pendingTips, [tip(3, 4), tip(2, 1)])
    }

    func testEntriesRoundTripAndMalformedOnesAreRefused() {
        let entries: [PushJournalEntry] = [
            .register(UserID(1), PushDevice(device: DeviceID(2), platform: .fcm, token: Array(repeating: 0x41, count: ProtocolConstants.pushTokenSizeMax))),
            .unregister(UserID(.max), DeviceID(3)),
            .tipEnqueued(PushTip(user: UserID(5), newestSeq: Seq(.max), epoch: 7, sender: UserID(6))),
            .tipDone(UserID(5), Seq(9)),
        ]
        for entry in entries {
            var writer = ByteWriter()
            entry.encode(into: &writer)
            var bytes = writer.bytes
            XCTAssertEqual(decode(bytes), entry)
            bytes.append(0)
            XCTAssertNil(decode(bytes), "trailing byte")
        }
        XCTAssertNil(decode([9] + [UInt8](repeating: 0, count: 8)), "unknown entry type")
        XCTAssertNil(decode([1] + [UInt8](repeating: 0, count: 16) + [3, 0, 1, 0, 0x41]), "unknown platform")
        XCTAssertNil(decode([1] + [UInt8](repeating: 0, count: 16) + [1, 0, 0, 0]), "empty token")
    }

    private func decode(_ bytes: [UInt8]) -> PushJournalEntry? {
        bytes.withUnsafeBytes { raw -> PushJournalEntry? in
            var reader = ByteReader(raw)
            return PushJournalEntry.decode(&reader)
        }
    }
}
