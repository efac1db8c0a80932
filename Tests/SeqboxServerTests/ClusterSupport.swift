#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SeqboxFormat
import SeqboxProtocol
import SeqboxServer
import XCTest

/// Starts a cluster of real seqboxd processes for the end-to-end suites: `nodeCount` storage
/// nodes (`--role storage`, each with its own data directory), then a gateway in front of them
/// (`--role gateway --storage …`), all on loopback ephemeral ports and sharing the test secret.
enum ClusterLauncher {
    /// Storage nodes behind each test gateway.
    static let nodeCount = 2

    /// Starts the storage nodes (registered in `test.supportingProcesses`, so tearDown kills
    /// them by PID) and returns the gateway over them, not yet started.
    static func makeGateway(for test: EndToEndTestCase, directory: String, arguments: [String],
                            nodeArguments: [String] = []) throws -> ServerProcess {
        var endpoints: [String] = []
        for index in 0 ..< nodeCount {
            let node = ServerProcess(dataDirectory: directory + "-node\(index)", arguments: ["--role", "storage"] + nodeArguments)
            test.supportingProcesses.append(node)
            try node.start()
            endpoints.append("127.0.0.1:\(node.port)")
        }
        return ServerProcess(dataDirectory: directory, arguments: ["--role", "gateway", "--storage", endpoints.joined(separator: ",")] + arguments)
    }

    /// The node (index into the storage list) that holds `user`'s mailbox.
    static func node(of user: UInt64) -> Int {
        UserSharding.node(of: UserID(user), nodeCount: nodeCount)
    }

    /// The first `count` user IDs at or above `start` whose mailbox lives on `node`.
    static func users(on node: Int, count: Int, from start: UInt64) -> [UInt64] {
        var users: [UInt64] = []
        var candidate = start
        while users.count < count {
            if ClusterLauncher.node(of: candidate) == node { users.append(candidate) }
            candidate += 1
        }
        return users
    }
}

extension ServerProcess {
    /// A connection to a storage node, after HELLO and LOGIN with the cluster's service token
    /// (user 0, device 0).
    func storageClient() throws -> ProtocolTestClient {
        let client = try client()
        let reply = try client.login(user: 0, device: 0, token: ServerProcess.token(user: 0, device: 0))
        guard case .loginOK = reply else { throw ProtocolTestClientError.unexpected("storage LOGIN answered \(reply)") }
        return client
    }
}

extension ProtocolTestClient {
    /// STORE_STATS as a dictionary.
    func storeStatistics() throws -> [String: UInt64] {
        let reply = try request(.storeStats(Frame.StoreStats()))
        guard case .storeStatsOK(let stats) = reply else { throw ProtocolTestClientError.unexpected("STORE_STATS answered \(reply)") }
        return Dictionary(stats.values.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    /// STORE_NEWEST of `user`.
    func storeNewest(user: UInt64) throws -> Frame.StoreNewestOK {
        let reply = try request(.storeNewest(Frame.StoreNewest(user: user)))
        guard case .storeNewestOK(let ok) = reply else { throw ProtocolTestClientError.unexpected("STORE_NEWEST answered \(reply)") }
        return ok
    }

    /// Every record of `user`'s mailbox, through STORE_PULL.
    func storePullAll(user: UInt64, pagesMax: Int = 1_000) throws -> [PullRecord] {
        var records: [PullRecord] = []
        var after: UInt32 = 0
        for _ in 0 ..< pagesMax {
            let reply = try request(.storePull(Frame.StorePull(user: user, after: after, limit: 256, epoch: 0,
                                                                frameLengthMax: UInt32(ProtocolConstants.frameLengthMax))))
            guard case .pullOK(let page) = reply else { throw ProtocolTestClientError.unexpected("STORE_PULL answered \(reply)") }
            records += page.records
            after = page.records.last?.seq ?? after
            if !page.hasMore { return records }
        }
        throw ProtocolTestClientError.unexpected("more than \(pagesMax) pages")
    }
}

/// A frame's bytes from raw parts, for frames the encoder refuses to build (bad values).
func rawFrame(type: UInt8, requestID: UInt32, body: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = []
    let length = UInt32(ProtocolConstants.frameLengthMin + body.count)
    bytes += withUnsafeBytes(of: length.littleEndian, Array.init)
    bytes += [type, 0, 0, 0]
    bytes += withUnsafeBytes(of: requestID.littleEndian, Array.init)
    return bytes + body
}

/// A STORE_APPEND message's bytes (PROTOCOL.md §14.3) with a body of `bodyLength` bytes.
func rawStoreMessage(user: UInt64, sender: UInt64, clientMessageID: UInt64, bodyLength: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    for value in [user, sender, 1, clientMessageID, 1_700_000_000_000] { bytes += withUnsafeBytes(of: value.littleEndian, Array.init) }
    bytes += [0, 0, 0, 0]
    bytes += withUnsafeBytes(of: UInt32(bodyLength).littleEndian, Array.init)
    return bytes + Array(repeating: 0x61, count: bodyLength)
}
