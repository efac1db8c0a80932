#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// An echo server on loopback, one thread per connection, for the proxy tests.
final class EchoServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let running = Atomic<Bool>(true)
    private var acceptThread = pthread_t()

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else { throw ProofError("echo server cannot listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        listener = descriptor
        port = UInt16(bigEndian: address.sin_port)
        acceptThread = EchoServer.spawn { [self] in
            while running.load(ordering: .relaxed) {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { continue }
                let thread = EchoServer.spawn {
                    var buffer = [UInt8](repeating: 0, count: 65_536)
                    while true {
                        let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                        guard count > 0 else { break }
                        var offset = 0
                        while offset < count {
                            let sent = buffer.withUnsafeBytes { Glibc.send(client, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL)) }
                            guard sent > 0 else { break }
                            offset += sent
                        }
                    }
                    close(client)
                }
                pthread_detach(thread)
            }
        }
    }

    func stop() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        pthread_join(acceptThread, nil)
        close(listener)
    }

    private static func spawn(_ body: @escaping () -> Void) -> pthread_t {
        final class Box { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }
        var thread = pthread_t()
        pthread_create(&thread, nil, { Unmanaged<Box>.fromOpaque($0!).takeRetainedValue().body(); return nil },
                       Unmanaged.passRetained(Box(body)).toOpaque())
        return thread
    }
}
