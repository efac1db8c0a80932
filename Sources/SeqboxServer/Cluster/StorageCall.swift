import SeqboxProtocol

/// One request to a storage node, from the moment a caller hands it to a `StorageNodeClient`
/// until it is answered exactly once: by the node, or by the client itself (`unavailable` after
/// a timeout or a lost connection, `overloaded` when the queue is full).
///
/// Confined to the client's I/O thread once queued (completions run there); `isAnswered` makes
/// a late answer after a timeout a no-op.
final class StorageCall: @unchecked Sendable {
    /// What goes on the wire: one append group (batched with others into a STORE_APPEND) or a
    /// whole request frame.
    enum Payload {
        case append(StoreAppendGroup)
        case request(Frame)
    }

    /// Where the answer goes.
    enum Completion {
        case append(@Sendable (Result<[StoreCopy], Frame.ErrorReport>) -> Void)
        case request(@Sendable (Result<Frame, Frame.ErrorReport>) -> Void)
    }

    /// The request answers `unavailable` at this monotonic time if nothing answered it before.
    let deadlineMs: Int64
    /// Dropped once encoded (the body need not live while the request is in flight).
    private(set) var payload: Payload?
    private var completion: Completion?

    /// Message body bytes the payload holds while queued (the queue's byte bound).
    let bodyBytes: Int

    init(payload: Payload, completion: Completion, deadlineMs: Int64) {
        self.payload = payload
        self.completion = completion
        self.deadlineMs = deadlineMs
        if case .append(let group) = payload {
            bodyBytes = group.messages.reduce(0) { $0 + $1.body.count }
        } else {
            bodyBytes = 0
        }
    }

    var isAnswered: Bool { completion == nil }

    /// The payload is on the wire: forget it.
    func markSent() { payload = nil }

    /// Answers with the node's frame: an append group's result, or a request's answer (an
    /// ERROR frame becomes a failure).
    func answer(with frame: Frame) {
        guard let completion else { return }
        self.completion = nil
        switch completion {
        case .request(let done):
            if case .error(let report) = frame { done(.failure(report)) } else { done(.success(frame)) }
        case .append(let done):
            done(.failure(Frame.ErrorReport(code: .internal, message: "storage node answered \(frame.type) to an append")))
        }
    }

    /// Answers an append group with its result from STORE_APPEND_OK.
    func answer(with result: StoreGroupResult) {
        guard let completion else { return }
        self.completion = nil
        switch completion {
        case .append(let done):
            switch result {
            case .stored(let copies): done(.success(copies))
            case .failed(let report): done(.failure(report))
            }
        case .request(let done):
            done(.failure(Frame.ErrorReport(code: .internal, message: "storage node answered an append result to a request")))
        }
    }

    /// Answers with an error made here (timeout, lost connection, overload, shutdown).
    func fail(_ report: Frame.ErrorReport) {
        guard let completion else { return }
        self.completion = nil
        switch completion {
        case .append(let done): done(.failure(report))
        case .request(let done): done(.failure(report))
        }
    }
}
