import SeqboxFormat

/// One state change queued for the writer.
enum WriteOperation {
    case message(PreparedMessage)
    case ack(user: UserID, device: DeviceID, seq: Seq)
    case block(user: UserID, blocked: UserID)
    case unblock(user: UserID, blocked: UserID)
    case epochChange(user: UserID, epoch: Epoch, lostFirst: Seq, lostLast: Seq)
}

/// A message with its payload already encoded (compressed on the caller's thread, so the
/// single writer thread only lays out bytes).
struct PreparedMessage {
    var message: NewMessage
    var stored: [UInt8]
    var compressed: Bool
    var keyHash: UInt64

    init(_ message: NewMessage) {
        self.message = message
        let encoded = message.payload.withUnsafeBytes { Compression.encodePayload($0) }
        stored = encoded.bytes
        compressed = encoded.compressed
        keyHash = IdempotencyKey.hash(user: message.user, sender: message.sender, device: message.device,
                                      clientMessageID: message.clientMessageID, outgoing: message.outgoing)
        // The raw payload is no longer needed; keep memory per queued request small.
        self.message.payload = []
        rawLength = message.payload.count
    }

    var rawLength: Int
    var recordSize: Int { RecordCodec.recordSize(storedLength: stored.count) }
}

/// Work the writer does between batches, on its own thread.
enum ControlOperation {
    case checkpoint
    case retention
    case roll
}

/// A queued unit of work: operations applied atomically (all in one batch, or none), then
/// `completion` with one result per operation.
final class WriteRequest: @unchecked Sendable {
    let operations: [WriteOperation]
    let control: ControlOperation?
    let completion: @Sendable (Result<[AppendResult], StoreError>) -> Void
    /// Upper bound of the bytes the records take in the log.
    let recordBytes: Int

    init(operations: [WriteOperation], completion: @escaping @Sendable (Result<[AppendResult], StoreError>) -> Void) {
        self.operations = operations
        self.control = nil
        self.completion = completion
        var bytes = 0
        for operation in operations {
            if case .message(let prepared) = operation { bytes += prepared.recordSize } else { bytes += FormatConstants.recordHeaderSize }
        }
        self.recordBytes = bytes
    }

    init(control: ControlOperation, completion: @escaping @Sendable (Result<[AppendResult], StoreError>) -> Void) {
        self.operations = []
        self.control = control
        self.completion = completion
        self.recordBytes = 0
    }
}
