import Synchronization

/// Where a client keeps its `ClientState` between runs.
///
/// `FileStateStore` is the default. An app that stores messages in its own database can keep
/// the state in the same database instead, saved in the same transaction as the delivered
/// messages: then a crash can never separate "the app has the message" from "the client
/// holds its seq".
public protocol ClientStateStore: AnyObject, Sendable {
    /// The saved state, or nil when none was ever saved.
    func load() throws(ClientError) -> ClientState?
    /// Saves `state` durably, replacing the previous one atomically: after a crash, `load()`
    /// returns either the previous state or this one, never a mixture.
    func save(_ state: ClientState) throws(ClientError)
}

/// A state store in memory: for clients that keep nothing between runs (one-shot commands)
/// and for tests.
public final class InMemoryStateStore: ClientStateStore {
    private let stored: Mutex<ClientState?>

    /// A store holding `state` (nil: nothing saved yet).
    public init(_ state: ClientState? = nil) {
        stored = Mutex(state)
    }

    public func load() throws(ClientError) -> ClientState? {
        stored.withLock { $0 }
    }

    public func save(_ state: ClientState) throws(ClientError) {
        stored.withLock { $0 = state }
    }

    /// The last saved state.
    public var state: ClientState? { stored.withLock { $0 } }
}
