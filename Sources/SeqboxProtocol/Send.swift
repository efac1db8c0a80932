extension Frame {
    /// SEND: append a message to another user's mailbox (PROTOCOL.md §5.5). Body: to u64 |
    /// clientMessageID u64 | bodyLength u32 | body.
    public struct Send: Hashable, Sendable {
        /// The recipient.
        public var to: UInt64
        /// The idempotency key, unique per (sender, device): a retried SEND with the same ID
        /// stores nothing and returns the original seq.
        public var clientMessageID: UInt64
        /// The message, opaque to the server, at most the server's `messageBodySizeMax` bytes.
        public var body: [UInt8]

        public init(to: UInt64, clientMessageID: UInt64, body: [UInt8]) {
            self.to = to
            self.clientMessageID = clientMessageID
            self.body = body
        }
    }
}

extension Frame.Send: FramePayload {
    static var frameType: FrameType { .send }
    var bodySize: Int { ProtocolConstants.sendFixedSize + body.count }

    func validate(limits: FrameLimits) throws(ProtocolError) {
        guard body.count <= limits.messageBodySizeMax else {
            throw error(.payloadTooLarge(length: body.count, limit: limits.messageBodySizeMax))
        }
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(to)
        bytes.appendLittleEndian(clientMessageID)
        bytes.appendLength(body.count, as: UInt32.self)
        bytes.append(contentsOf: body)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        to = try reader.read()
        clientMessageID = try reader.read()
        let bodyLength = Int(try reader.read(UInt32.self))
        let limit = reader.limits.messageBodySizeMax
        guard bodyLength <= limit else { throw reader.error(.payloadTooLarge(length: bodyLength, limit: limit)) }
        body = try reader.readBytes(count: bodyLength)
    }
}
