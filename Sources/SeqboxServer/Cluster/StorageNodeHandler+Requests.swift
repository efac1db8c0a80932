import SeqboxFormat
import SeqboxProtocol
import SeqboxStore
import Synchronization

extension StorageNodeHandler {
    /// Serves one storage request of a logged-in gateway (PROTOCOL.md §14).
    func serve(_ frame: Frame, requestID: UInt32, connection: any ConnectionHandle) {
        let answer: @Sendable (Result<Frame, Frame.ErrorReport>) -> Void = { [self] result in
            switch result {
            case .success(let frame): connection.send(frame, requestID: requestID)
            case .failure(let report): refuse(connection, requestID: requestID, report)
            }
        }
        switch frame {
        case .storeAppend(let append):
            serveAppend(append, requestID: requestID, connection: connection)
        case .storePull(let pull):
            guard pull.user != 0 else { return answer(.failure(badRequest("user 0"))) }
            // The answer must fit the gateway's client connection, and at least one record must fit it.
            let frameLengthMin = FrameLimits.frameLengthNeeded(messageBodySizeMax: 0)
            guard Int(pull.frameLengthMax) >= frameLengthMin else {
                return answer(.failure(badRequest("frameLengthMax \(pull.frameLengthMax) is below \(frameLengthMin)")))
            }
            let limit = min(Int(pull.limit), configuration.pullLimitMax)
            backend.pull(user: UserID(pull.user), Frame.Pull(after: pull.after, epoch: pull.epoch, limit: pull.limit),
                         limit: limit, frameLengthMax: min(Int(pull.frameLengthMax), ProtocolConstants.frameLengthMax), completion: answer)
        case .storeLoginState(let request):
            guard request.user != 0 else { return answer(.failure(badRequest("user 0"))) }
            backend.loginState(user: UserID(request.user), device: DeviceID(request.device), fullHistory: request.fullHistory) { result in
                answer(result.map { .loginOK($0) })
            }
        case .storeAck(let ack):
            guard ack.user != 0 else { return answer(.failure(badRequest("user 0"))) }
            write(answer) { done in
                backend.ack(user: UserID(ack.user), device: DeviceID(ack.device), seq: Seq(ack.seq)) { result in
                    done(result.map { .ackOK(Frame.AckOK(seq: $0.rawValue)) })
                }
            }
        case .storeBlock(let block):
            guard block.user != 0, block.other != 0, block.user != block.other else {
                return answer(.failure(badRequest("block needs two distinct non-zero users")))
            }
            write(answer) { done in
                backend.setBlocked(user: UserID(block.user), other: UserID(block.other), blocked: block.blocked) { result in
                    done(result.map { .blockOK(Frame.BlockOK(user: block.other, blocked: block.blocked)) })
                }
            }
        case .storeCursor(let request):
            guard request.user != 0 else { return answer(.failure(badRequest("user 0"))) }
            answer(.success(.ackOK(Frame.AckOK(seq: store.cursor(user: UserID(request.user), device: DeviceID(request.device)).rawValue))))
        case .storeNewest(let request):
            guard request.user != 0 else { return answer(.failure(badRequest("user 0"))) }
            let info = store.mailboxInfo(user: UserID(request.user))
            answer(.success(.storeNewestOK(Frame.StoreNewestOK(newestSeq: info.newestSeq.rawValue, firstSeq: info.firstAvailable.rawValue,
                                                                confirmedSeq: info.confirmedSeq.rawValue, epoch: WireValues.epoch(info.epoch)))))
        case .storeStats:
            answer(.success(.storeStatsOK(Frame.StoreStatsOK(values: statistics()))))
        default:
            preconditionFailure("\(frame.type) is not a storage request")
        }
    }

    /// Runs a durable write unless shutting down, counting it in flight until answered.
    private func write(_ answer: @escaping @Sendable (Result<Frame, Frame.ErrorReport>) -> Void,
                       _ body: (@escaping @Sendable (Result<Frame, Frame.ErrorReport>) -> Void) -> Void) {
        guard writes.tryBegin() else { return answer(.failure(shuttingDownReport)) }
        body { [self] result in
            answer(result)
            writes.end()
        }
    }

    // MARK: STORE_APPEND

    /// Hands every group to the store at once (each an atomic append, so they join the store's
    /// group commits with every other connection's), then answers STORE_APPEND_OK with one
    /// result per group once the last one completed.
    private func serveAppend(_ append: Frame.StoreAppend, requestID: UInt32, connection: any ConnectionHandle) {
        counters.appendGroups.add(append.groups.count, ordering: .relaxed)
        writes.begin()
        let collector = GroupResults(count: append.groups.count) { [self] results in
            connection.send(.storeAppendOK(Frame.StoreAppendOK(results: results)), requestID: requestID)
            writes.end()
        }
        let closing = writes.isClosed
        for (index, group) in append.groups.enumerated() {
            if closing {
                collector.set(index, .failed(shuttingDownReport))
                continue
            }
            if let refusal = refusal(of: group) {
                collector.set(index, .failed(refusal))
                continue
            }
            let messages = group.messages.map {
                NewMessage(user: UserID($0.user), sender: UserID($0.sender), device: DeviceID($0.device),
                           clientMessageID: ClientMessageID($0.clientMessageID), timestampMs: $0.timestampMs,
                           payload: $0.body, outgoing: $0.outgoing)
            }
            backend.append(AppendGroup(messages: messages, refuseIfBlocked: group.refuseIfBlocked)) { result in
                switch result {
                case .success(let copies):
                    collector.set(index, .stored(copies.map { StoreCopy(seq: $0.seq.rawValue, duplicate: $0.duplicate, epoch: $0.epoch, timestampMs: $0.timestampMs) }))
                case .failure(let report):
                    collector.set(index, .failed(report))
                }
            }
        }
    }

    /// Why a group is refused before reaching the store, or nil: values no gateway sends.
    private func refusal(of group: StoreAppendGroup) -> Frame.ErrorReport? {
        for message in group.messages {
            guard message.user != 0, message.sender != 0 else { return badRequest("user 0 in an append") }
            guard message.user != message.sender else { return badRequest("a message to oneself") }
            guard message.clientMessageID != 0 else { return badRequest("client message ID 0") }
        }
        return nil
    }

    // MARK: STORE_STATS

    /// The store's counters and the node's own, as STORE_STATS_OK names them.
    func statistics() -> [StoreStatistic] {
        let stats = store.stats()
        let values: [(String, Int64)] = [
            ("users", Int64(stats.users)),
            ("indexed_messages", Int64(stats.indexedMessages)),
            ("segments", Int64(stats.segments)),
            ("log_bytes", stats.logBytes),
            ("dedup_entries", Int64(stats.dedupEntries)),
            ("appended_records", Int64(clamping: stats.appendedRecords)),
            ("syncs", Int64(clamping: stats.syncs)),
            ("batches", Int64(clamping: stats.batches)),
            ("checkpoints", Int64(clamping: stats.checkpoints)),
            ("damaged_reads", Int64(clamping: stats.damagedReads)),
            ("index_memory_bytes", Int64(store.indexMemoryBytes())),
            ("gateway_connections", Int64(gatewayConnectionCount)),
            ("storage_requests", Int64(counters.requests.load(ordering: .relaxed))),
            ("append_groups", Int64(counters.appendGroups.load(ordering: .relaxed))),
            ("refused", Int64(counters.refused.load(ordering: .relaxed))),
        ]
        return values.map { StoreStatistic(name: $0.0, value: UInt64(max(0, $0.1))) }
    }

    private func badRequest(_ detail: String) -> Frame.ErrorReport {
        Frame.ErrorReport(code: .badRequest, message: detail)
    }

    private var shuttingDownReport: Frame.ErrorReport {
        Frame.ErrorReport(code: .unavailable, retryAfterMs: configuration.retryAfterMs, message: "storage node shutting down")
    }
}

/// Collects the results of a STORE_APPEND's groups, completed on any thread in any order, and
/// hands them over in group order once the last one arrived.
final class GroupResults: Sendable {
    private struct State {
        var results: [StoreGroupResult?]
        var remaining: Int
    }

    private let state: PthreadLocked<State>
    private let done: @Sendable ([StoreGroupResult]) -> Void

    init(count: Int, done: @escaping @Sendable ([StoreGroupResult]) -> Void) {
        state = PthreadLocked(State(results: Array(repeating: nil, count: count), remaining: count))
        self.done = done
    }

    func set(_ index: Int, _ result: StoreGroupResult) {
        let complete: [StoreGroupResult]? = state.withLock { state in
            precondition(state.results[index] == nil, "group \(index) answered twice")
            state.results[index] = result
            state.remaining -= 1
            return state.remaining == 0 ? state.results.map { $0! } : nil
        }
        if let complete { done(complete) }
    }
}
