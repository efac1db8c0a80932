#if canImport(Glibc)
import Glibc
#endif
import SeqboxProtocol
import SeqboxStore

/// What the service did while running, for the shutdown log line.
public struct ServiceReport: Sendable, CustomStringConvertible {
    public var logins: Int
    public var sendsStored: Int
    public var sendsDuplicate: Int
    public var pulls: Int
    public var acks: Int
    public var refused: Int
    public var openConnections: Int

    public var description: String {
        "logins=\(logins) sends_stored=\(sendsStored) sends_duplicate=\(sendsDuplicate) pulls=\(pulls) acks=\(acks) refused=\(refused) open_connections=\(openConnections)"
    }
}

extension MessagingService {
    /// Graceful shutdown, step 1: refuse new writes (`unavailable`, retry after the reconnect
    /// delay); reads and in-flight writes continue.
    public func beginShutdown() {
        shuttingDown.store(true, ordering: .sequentiallyConsistent)
    }

    /// Step 2: waits until every write handed to the store has completed and its reply was
    /// queued, or `timeoutMs` passed. Returns whether everything completed.
    public func waitForWritesInFlight(timeoutMs: Int) -> Bool {
        let deadline = monotonicNanoseconds() + UInt64(max(0, timeoutMs)) * 1_000_000
        while writesInFlight.load(ordering: .sequentiallyConsistent) > 0 {
            guard monotonicNanoseconds() < deadline else { return false }
            usleep(1_000)
        }
        return true
    }

    /// Step 3: GOODBYE(serverShutdown) to every connection, then closes each after its output
    /// is flushed.
    public func sayGoodbye() {
        let goodbye = Frame.goodbye(Frame.Goodbye(reason: .serverShutdown, reconnectAfterMs: configuration.shutdownReconnectAfterMs))
        for session in registry.allSessions() {
            session.connection.send(goodbye, requestID: 0)
            session.connection.close(reason: .serverShutdown)
        }
    }

    /// Writes handed to the store whose reply is not queued yet.
    public var writesInFlightCount: Int { writesInFlight.load(ordering: .relaxed) }

    /// Connections that completed HELLO and are not closed.
    public var openConnectionCount: Int { registry.openCount }

    public var report: ServiceReport {
        ServiceReport(logins: counters.logins.load(ordering: .relaxed), sendsStored: counters.sendsStored.load(ordering: .relaxed),
                      sendsDuplicate: counters.sendsDuplicate.load(ordering: .relaxed), pulls: counters.pulls.load(ordering: .relaxed),
                      acks: counters.acks.load(ordering: .relaxed), refused: counters.refused.load(ordering: .relaxed),
                      openConnections: registry.openCount)
    }
}
