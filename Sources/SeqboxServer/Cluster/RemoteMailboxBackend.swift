import SeqboxFormat
import SeqboxProtocol
import SeqboxStore

/// The gateway's `MailboxBackend`: every user's mailbox lives on one storage node, chosen by
/// `UserSharding` over the node list, and is reached over the storage RPC (PROTOCOL.md §14)
/// through that node's `StorageNodeClient`.
///
/// A SEND between users of two nodes is two appends (`MailboxBackend.storeSend`): the
/// recipient's copy on its node, then the outgoing copy on the sender's. When a node is down,
/// operations on its users answer `unavailable` at once; other users are unaffected.
public final class RemoteMailboxBackend: MailboxBackend {
    /// One client per node, in the node list's order.
    public let nodes: [StorageNodeClient]

    public init(nodes: [StorageNodeClient]) {
        precondition(!nodes.isEmpty, "at least one storage node")
        self.nodes = nodes
    }

    public func shard(of user: UserID) -> Int {
        UserSharding.node(of: user, nodeCount: nodes.count)
    }

    /// The client of `user`'s node.
    public func node(of user: UserID) -> StorageNodeClient { nodes[shard(of: user)] }

    public func loginState(user: UserID, device: DeviceID, fullHistory: Bool,
                           completion: @escaping @Sendable (Result<Frame.LoginOK, Frame.ErrorReport>) -> Void) {
        let request = Frame.storeLoginState(Frame.StoreLoginState(user: user.rawValue, device: device.rawValue, fullHistory: fullHistory))
        node(of: user).request(request) { result in
            completion(result.flatMap { answer in
                if case .loginOK(let state) = answer { return .success(state) }
                return .failure(Self.unexpected(answer, to: "STORE_LOGIN_STATE"))
            })
        }
    }

    public func append(_ group: AppendGroup, completion: @escaping @Sendable (Result<[StoredCopy], Frame.ErrorReport>) -> Void) {
        guard let first = group.messages.first, group.messages.count <= ProtocolConstants.storeAppendGroupMessagesMax else {
            return completion(.failure(Frame.ErrorReport(code: .internal, message: "an append group of \(group.messages.count) messages")))
        }
        if let large = group.messages.first(where: { $0.payload.count > ProtocolConstants.messageBodySizeMax }) {
            return completion(.failure(Frame.ErrorReport(code: .payloadTooLarge, message: "body of \(large.payload.count) bytes exceeds \(ProtocolConstants.messageBodySizeMax)")))
        }
        let messages = group.messages.map {
            StoreMessage(user: $0.user.rawValue, sender: $0.sender.rawValue, device: $0.device.rawValue, clientMessageID: $0.clientMessageID.rawValue,
                         timestampMs: $0.timestampMs, outgoing: $0.outgoing, body: $0.payload)
        }
        let count = messages.count
        node(of: first.user).append(StoreAppendGroup(refuseIfBlocked: group.refuseIfBlocked, messages: messages)) { result in
            completion(result.flatMap { copies in
                guard copies.count == count else {
                    return .failure(Frame.ErrorReport(code: .internal, message: "storage node answered \(copies.count) copies for \(count) messages"))
                }
                return .success(copies.map { StoredCopy(seq: Seq($0.seq), duplicate: $0.duplicate, epoch: $0.epoch, timestampMs: $0.timestampMs) })
            })
        }
    }

    public func pull(user: UserID, _ pull: Frame.Pull, limit: Int, frameLengthMax: Int,
                     completion: @escaping @Sendable (Result<Frame, Frame.ErrorReport>) -> Void) {
        let request = Frame.storePull(Frame.StorePull(user: user.rawValue, after: pull.after, limit: UInt16(clamping: limit),
                                                      epoch: pull.epoch, frameLengthMax: UInt32(clamping: frameLengthMax)))
        node(of: user).request(request) { result in
            completion(result.flatMap { answer in
                switch answer {
                case .pullOK, .truncated: .success(answer)
                default: .failure(Self.unexpected(answer, to: "STORE_PULL"))
                }
            })
        }
    }

    public func ack(user: UserID, device: DeviceID, seq: Seq, completion: @escaping @Sendable (Result<Seq, Frame.ErrorReport>) -> Void) {
        let request = Frame.storeAck(Frame.StoreAck(user: user.rawValue, device: device.rawValue, seq: seq.rawValue))
        node(of: user).request(request) { result in
            completion(result.flatMap { answer in
                if case .ackOK(let ok) = answer { return .success(Seq(ok.seq)) }
                return .failure(Self.unexpected(answer, to: "STORE_ACK"))
            })
        }
    }

    public func setBlocked(user: UserID, other: UserID, blocked: Bool,
                           completion: @escaping @Sendable (Result<Void, Frame.ErrorReport>) -> Void) {
        let request = Frame.storeBlock(Frame.StoreBlock(user: user.rawValue, other: other.rawValue, blocked: blocked))
        node(of: user).request(request) { result in
            completion(result.flatMap { answer in
                if case .blockOK(let ok) = answer, ok.user == other.rawValue, ok.blocked == blocked { return .success(()) }
                return .failure(Self.unexpected(answer, to: "STORE_BLOCK"))
            })
        }
    }

    // MARK: Beyond the service's needs (operations, tests)

    /// `device`'s cursor in `user`'s mailbox (STORE_CURSOR).
    public func cursor(user: UserID, device: DeviceID, completion: @escaping @Sendable (Result<Seq, Frame.ErrorReport>) -> Void) {
        node(of: user).request(.storeCursor(Frame.StoreCursor(user: user.rawValue, device: device.rawValue))) { result in
            completion(result.flatMap { answer in
                if case .ackOK(let ok) = answer { return .success(Seq(ok.seq)) }
                return .failure(Self.unexpected(answer, to: "STORE_CURSOR"))
            })
        }
    }

    /// The head of `user`'s mailbox (STORE_NEWEST).
    public func newest(user: UserID, completion: @escaping @Sendable (Result<Frame.StoreNewestOK, Frame.ErrorReport>) -> Void) {
        node(of: user).request(.storeNewest(Frame.StoreNewest(user: user.rawValue))) { result in
            completion(result.flatMap { answer in
                if case .storeNewestOK(let ok) = answer { return .success(ok) }
                return .failure(Self.unexpected(answer, to: "STORE_NEWEST"))
            })
        }
    }

    /// Stops every node client (requests in flight answer `unavailable`).
    public func stop() {
        for node in nodes { node.stop() }
    }

    static func unexpected(_ answer: Frame, to request: String) -> Frame.ErrorReport {
        Frame.ErrorReport(code: .internal, message: "storage node answered \(answer.type) to \(request)")
    }
}
