import SeqboxFormat
import Synchronization

/// Every open connection's session, and the live (logged-in) sessions of each user, which the
/// push path reads to deliver NOTIFYs. Thread-safe: event loops open, log in and close
/// sessions; the store's writer thread looks up live sessions after each durable append.
/// The per-user map is split into shards by user so the writer and the loops rarely contend.
final class SessionRegistry: Sendable {
    /// Shards of the per-user map (a power of two).
    static let userShardCount = 16

    private final class UserShard: Sendable {
        let sessions = PthreadLocked<[UserID: [Session]]>([:])
    }

    private let byConnection = PthreadLocked<[ConnectionID: Session]>([:])
    private let userShards: [UserShard] = (0 ..< SessionRegistry.userShardCount).map { _ in UserShard() }

    private func shard(of user: UserID) -> UserShard {
        // Fibonacci hashing spreads sequential user IDs over the shards.
        let mixed = user.rawValue &* 0x9E37_79B9_7F4A_7C15
        return userShards[Int(mixed >> 60) & (SessionRegistry.userShardCount - 1)]
    }

    /// Registers a connection that completed HELLO.
    func open(_ session: Session) {
        byConnection.withLock { $0[session.id] = session }
    }

    func session(for id: ConnectionID) -> Session? {
        byConnection.withLock { $0[id] }
    }

    /// Makes `session` live for `identity.user`. Returns the session it replaces: the same
    /// user and device logged in on another connection (PROTOCOL.md §5.18 `replaced`).
    func logIn(_ session: Session, as identity: SessionIdentity) -> Session? {
        shard(of: identity.user).sessions.withLock { map in
            var list = map[identity.user] ?? []
            let replacedIndex = list.firstIndex { $0.identity?.device == identity.device && $0 !== session }
            let replaced = replacedIndex.map { list.remove(at: $0) }
            list.append(session)
            map[identity.user] = list
            return replaced
        }
    }

    /// Forgets a closed connection. Returns its session if it was registered.
    @discardableResult
    func close(_ id: ConnectionID) -> Session? {
        guard let session = byConnection.withLock({ $0.removeValue(forKey: id) }) else { return nil }
        if let user = session.identity?.user {
            shard(of: user).sessions.withLock { map in
                guard var list = map[user] else { return }
                list.removeAll { $0 === session }
                map[user] = list.isEmpty ? nil : list
            }
        }
        return session
    }

    /// Calls `body` for each live session of `user` (none: not called). Runs under the shard's
    /// lock: `body` must be short and must not call back into the registry.
    func forEachLiveSession(of user: UserID, _ body: (Session) -> Void) {
        shard(of: user).sessions.withLock { map in
            guard let list = map[user] else { return }
            for session in list { body(session) }
        }
    }

    /// Connections that completed HELLO and are not closed.
    var openCount: Int { byConnection.withLock { $0.count } }
}
