#if canImport(Glibc)
import Glibc
#endif
import SeqboxSystem

/// Opens Redis connections and proves each is served (PING answered +PONG; a server over
/// `maxclients` answers an error instead), a chunk at a time; also runs single control
/// commands (INFO) on a connection of its own.
struct RedisConnector {
    let address: IPv4SocketAddress

    /// `count` non-blocking sockets, each answered a PING.
    func connect(count: Int) throws -> [Int32] {
        var opened: [Int32] = []
        opened.reserveCapacity(count)
        do {
            for chunkStart in stride(from: 0, to: count, by: LoadSockets.connectChunk) {
                var pending: [Int32] = []
                for _ in chunkStart ..< min(count, chunkStart + LoadSockets.connectChunk) {
                    let fd = try LoadSockets.connect(address)
                    pending.append(fd)
                    try LoadSockets.writeAll(fd, RESPEncoder.command(["PING"]))
                }
                for (index, fd) in pending.enumerated() {
                    do {
                        let reply = try awaitReply(fd, what: "PING")
                        guard reply == .simple("PONG") else { throw BenchError("redis-server answered PING with \(reply)") }
                    } catch {
                        for rest in pending[index...] { close(rest) }
                        throw error
                    }
                    LoadSockets.makeNonBlocking(fd)
                    opened.append(fd)
                }
            }
        } catch {
            for fd in opened { LoadConnection.closeResetting(fd) }
            throw error
        }
        return opened
    }

    /// Runs one command on a fresh connection and returns the reply.
    func command(_ arguments: [String]) throws -> RESPValue {
        let fd = try LoadSockets.connect(address)
        defer { close(fd) }
        try LoadSockets.writeAll(fd, RESPEncoder.command(arguments))
        return try awaitReply(fd, what: arguments.first ?? "command")
    }

    private func awaitReply(_ fd: Int32, what: String) throws -> RESPValue {
        let buffer = ByteBuffer(capacity: 256)
        while true {
            try LoadSockets.receive(fd, into: buffer, what: "redis \(what)")
            if let (value, _) = try RESPValue.parse(buffer.readable) { return value }
        }
    }
}
