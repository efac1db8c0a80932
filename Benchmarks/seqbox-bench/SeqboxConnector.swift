#if canImport(Glibc)
import Glibc
#endif
import SeqboxProtocol
import SeqboxSystem

/// Opens logged-in Seqbox connections: HELLO (one version) and LOGIN pipelined (PROTOCOL.md
/// §3), then HELLO_OK and LOGIN_OK awaited, a chunk of connections at a time. Setup is not
/// measured, so it uses the protocol module's `FrameEncoder` and `FrameDecoder` as they are.
struct SeqboxConnector {
    /// The device every benchmark user logs in from.
    static let device: UInt64 = 1

    let address: IPv4SocketAddress
    let minter: LoginTokenMinter

    /// Non-blocking sockets logged in as `users`, with each LOGIN_OK.
    func connect(users: [UInt64]) throws -> [(fd: Int32, login: Frame.LoginOK)] {
        var opened: [(fd: Int32, login: Frame.LoginOK)] = []
        opened.reserveCapacity(users.count)
        do {
            for chunkStart in stride(from: 0, to: users.count, by: LoadSockets.connectChunk) {
                let chunk = users[chunkStart ..< min(users.count, chunkStart + LoadSockets.connectChunk)]
                var pending: [(fd: Int32, user: UInt64)] = []
                for user in chunk {
                    let fd = try LoadSockets.connect(address)
                    pending.append((fd, user))
                    let version = ProtocolConstants.protocolVersion
                    var bytes = FrameEncoder.encode(.hello(Frame.Hello(versionMin: version, versionMax: version)), requestID: 1)
                    let login = Frame.Login(user: user, device: Self.device, token: minter.token(user: user, device: Self.device))
                    FrameEncoder.encode(.login(login), requestID: 2, into: &bytes)
                    try LoadSockets.writeAll(fd, bytes)
                }
                for (index, connection) in pending.enumerated() {
                    do {
                        opened.append((connection.fd, try awaitLogin(connection.fd, user: connection.user)))
                    } catch {
                        for rest in pending[index...] { close(rest.fd) }
                        throw error
                    }
                    LoadSockets.makeNonBlocking(connection.fd)
                }
            }
        } catch {
            for connection in opened { LoadConnection.closeResetting(connection.fd) }
            throw error
        }
        return opened
    }

    private func awaitLogin(_ fd: Int32, user: UInt64) throws -> Frame.LoginOK {
        var decoder = FrameDecoder(receiver: .client)
        let buffer = ByteBuffer(capacity: 256)
        while true {
            try LoadSockets.receive(fd, into: buffer, what: "the login of user \(user)")
            decoder.append(buffer.readable)
            buffer.removeAll()
            while let decoded = try decoder.next() {
                switch decoded.frame {
                case .helloOK:
                    continue
                case .loginOK(let ok):
                    return ok
                case .error(let report):
                    throw BenchError("seqboxd refused the login of user \(user): \(report.code) \(report.message)")
                default:
                    throw BenchError("unexpected \(decoded.frame.type) during the login of user \(user)")
                }
            }
        }
    }
}
