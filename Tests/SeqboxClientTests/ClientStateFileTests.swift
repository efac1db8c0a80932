import Foundation
@testable import SeqboxClient
import XCTest

/// The client state file: its codec rejects damage, saves replace it atomically, and the lock
/// keeps two clients off one state.
final class ClientStateFileTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "seqbox-client-state-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func sampleState() -> ClientState {
        var state = ClientState(user: 1001, device: 7, firstClientMessageID: 123_456)
        state.epoch = 3
        state.heldSeq = 4_000_000_000
        state.outbox = [
            OutboxEntry(clientMessageID: 123_456, recipient: 1002, body: Array("hello".utf8)),
            OutboxEntry(clientMessageID: 123_457, recipient: 1003, body: []),
        ]
        return state
    }

    func testCodecRoundTripsEveryField() throws {
        let state = sampleState()
        XCTAssertEqual(try ClientStateCodec.decode(ClientStateCodec.encode(state)), state)
    }

    func testCodecRejectsEveryFlippedByteAndEveryTruncation() {
        let bytes = ClientStateCodec.encode(sampleState())
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x40
            XCTAssertThrowsError(try ClientStateCodec.decode(damaged), "byte \(index) flipped")
        }
        for length in 0 ..< bytes.count {
            XCTAssertThrowsError(try ClientStateCodec.decode(Array(bytes[0 ..< length])), "cut at \(length)")
        }
    }

    func testSaveThenLoadReturnsTheStateAndLeavesNoTemporaryFile() throws {
        let path = directory + "/a.state"
        let store = try FileStateStore(path: path)
        XCTAssertNil(try store.load(), "nothing saved yet")
        try store.save(sampleState())
        var changed = sampleState()
        changed.heldSeq = 5
        try store.save(changed)
        XCTAssertEqual(try store.load(), changed)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"))
    }

    func testSecondStoreOnTheSameFileIsRefusedUntilTheFirstCloses() throws {
        let path = directory + "/b.state"
        let first = try FileStateStore(path: path)
        XCTAssertThrowsError(try FileStateStore(path: path)) { XCTAssertEqual($0 as? ClientError, .stateFileLocked(path: path)) }
        first.close()
        XCTAssertNoThrow(try FileStateStore(path: path))
    }

    func testDamagedFileIsReportedNotIgnored() throws {
        let path = directory + "/c.state"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        let store = try FileStateStore(path: path)
        XCTAssertThrowsError(try store.load()) {
            guard case .stateFileCorrupt? = $0 as? ClientError else { return XCTFail("\($0)") }
        }
    }

    func testClientRefusesAStateOfAnotherIdentity() throws {
        let store = InMemoryStateStore(sampleState())
        let configuration = ClientConfiguration(host: "127.0.0.1", port: 1, user: 1001, device: 8, token: [])
        XCTAssertThrowsError(try MailboxClient(configuration: configuration, stateStore: store) { _ in }) {
            XCTAssertEqual($0 as? ClientError, .stateBelongsToAnotherIdentity(user: 1001, device: 7))
        }
    }
}
