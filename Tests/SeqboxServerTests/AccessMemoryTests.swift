import SeqboxProtocol
import SeqboxSystem
import XCTest
@testable import SeqboxServer

/// What an idle connection costs the server. Clients are bare sockets in this process (no
/// buffers of their own), so the growth of the resident set is the server's user memory; the
/// kernel's socket memory is not part of it.
final class AccessMemoryTests: XCTestCase {
    /// Idle connections measured; ×2 descriptors in this process, far below the 20,000 limit.
    private let connectionCount = 2_000
    /// The bound this test holds the access layer to, per idle connection.
    private let idleConnectionBytesMax = 4_096

    func testAnIdleConnectionCostsLessThanFourKilobytesOfServerMemory() throws {
        let server = AccessServer(configuration: testAccessConfiguration { $0.idleTimeoutMs = 120_000; $0.handshakeTimeoutMs = 120_000 },
                                  handler: AccessRecordingHandler())
        try server.start()
        defer { server.stop() }
        // Warm up: the loops' arrays, dictionaries and malloc arenas reach their steady state.
        try openIdleConnections(200, port: server.boundPort).forEach { $0.close() }
        XCTAssertTrue(accessWaitUntil { server.statistics.connectionsHeld == 0 })

        let before = try XCTUnwrap(ResourceLimits.residentMemoryBytes())
        let sockets = try openIdleConnections(connectionCount, port: server.boundPort)
        XCTAssertTrue(accessWaitUntil { server.statistics.connectionsHeld == self.connectionCount })
        let after = try XCTUnwrap(ResourceLimits.residentMemoryBytes())
        let perConnection = (after - before) / connectionCount
        print("access: \(perConnection) bytes of resident memory per idle connection (\(connectionCount) connections, HELLO done)")
        XCTAssertLessThan(perConnection, idleConnectionBytesMax)
        XCTAssertEqual(server.statistics.openedTotal, 200 + connectionCount)
        sockets.forEach { $0.close() }
    }

    /// Connects `count` blocking sockets, each completing HELLO/HELLO_OK, and leaves them idle.
    private func openIdleConnections(_ count: Int, port: UInt16) throws -> [Socket] {
        let address = try IPv4SocketAddress(host: "127.0.0.1", port: port)
        let hello = FrameEncoder.encode(.hello(Frame.Hello()), requestID: 1)
        let helloOKSize = ProtocolConstants.frameHeaderSize + ProtocolConstants.helloOKBodySize
        var sockets: [Socket] = []
        sockets.reserveCapacity(count)
        for _ in 0 ..< count {
            let socket = try Socket.tcp(blocking: true)
            sockets.append(socket)
            try socket.connect(to: address)
            try socket.sendAll(hello)
        }
        var reply = [UInt8](repeating: 0, count: helloOKSize)
        for socket in sockets {
            var received = 0
            while received < helloOKSize {
                let result = try reply.withUnsafeMutableBytes { try socket.receive(into: UnsafeMutableRawBufferPointer(rebasing: $0[received...])) }
                guard case .received(let n) = result else { throw SystemError(call: "recv", errno: .io) }
                received += n
            }
        }
        return sockets
    }
}
