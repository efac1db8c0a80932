/// One side of a Seqbox connection. Each frame type is sent by one side (GOODBYE by both), so a
/// decoder knows which frames it may receive (PROTOCOL.md §4 "Frame types").
public enum Endpoint: Hashable, Sendable, CaseIterable {
    /// The app: sends HELLO, LOGIN, SEND, PULL, ACK, BLOCK, UNBLOCK, PING, PUSH_REGISTER,
    /// PUSH_UNREGISTER. In the storage RPC (§14) the gateway, sending the STORE_ requests.
    case client
    /// The server: sends the replies, NOTIFY and ERROR. In the storage RPC, the storage node.
    case server

    /// The other side of the connection.
    public var peer: Endpoint {
        switch self {
        case .client: .server
        case .server: .client
        }
    }
}
