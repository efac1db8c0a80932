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
        writes.close()
    }

    /// Step 2: waits until every write handed to the store has completed and its reply was
    /// queued, or `timeoutMs` passed. Returns whether everything completed.
    public func waitForWritesInFlight(timeoutMs: Int) -> Bool {
        writes.waitUntilDrained(timeoutMs: timeoutMs)
    }

    /// Connections that completed HELLO and are not closed.
    public var openConnectionCount: Int { registry.openCount }

    public var report: ServiceReport {
        ServiceReport(logins: counters.logins.load(ordering: .relaxed), sendsStored: counters.sendsStored.load(ordering: .relaxed),
                      sendsDuplicate: counters.sendsDuplicate.load(ordering: .relaxed), pulls: counters.pulls.load(ordering: .relaxed),
                      acks: counters.acks.load(ordering: .relaxed), refused: counters.refused.load(ordering: .relaxed),
                      openConnections: registry.openCount)
    }
}
