extension Frame {
    /// HELLO_OK, the server's answer to HELLO: the chosen version and the server's limits
    /// (PROTOCOL.md §5.2). Body: version u16 | pullLimitMax u16 | frameLengthMax u32 |
    /// messageBodySizeMax u32 | heartbeatIntervalMs u32 | idleTimeoutMs u32 |
    /// requestsInFlightMax u16 | reserved u16.
    public struct HelloOK: Hashable, Sendable {
        /// The protocol version both sides speak from now on.
        public var version: UInt16
        /// Most records the server puts in one PULL_OK; larger PULL limits are clamped to it.
        public var pullLimitMax: UInt16
        /// Largest frame length field the server sends; the client sizes its decoder to it.
        public var frameLengthMax: UInt32
        /// Largest SEND body the server accepts.
        public var messageBodySizeMax: UInt32
        /// The client sends PING when it has sent nothing for this long.
        public var heartbeatIntervalMs: UInt32
        /// The server closes a connection it has received nothing from for this long.
        public var idleTimeoutMs: UInt32
        /// Most requests a client may have in flight; the server stops reading beyond it.
        public var requestsInFlightMax: UInt16

        public init(
            version: UInt16 = ProtocolConstants.protocolVersion,
            pullLimitMax: UInt16 = UInt16(ProtocolConstants.defaultPullLimit),
            frameLengthMax: UInt32 = UInt32(ProtocolConstants.frameLengthMax),
            messageBodySizeMax: UInt32 = UInt32(ProtocolConstants.messageBodySizeMax),
            heartbeatIntervalMs: UInt32 = ProtocolConstants.defaultHeartbeatIntervalMs,
            idleTimeoutMs: UInt32 = ProtocolConstants.defaultIdleTimeoutMs,
            requestsInFlightMax: UInt16 = UInt16(ProtocolConstants.defaultRequestsInFlightMax)
        ) {
            self.version = version
            self.pullLimitMax = pullLimitMax
            self.frameLengthMax = frameLengthMax
            self.messageBodySizeMax = messageBodySizeMax
            self.heartbeatIntervalMs = heartbeatIntervalMs
            self.idleTimeoutMs = idleTimeoutMs
            self.requestsInFlightMax = requestsInFlightMax
        }
    }
}

extension Frame.HelloOK: FramePayload {
    static var frameType: FrameType { .helloOK }
    var bodySize: Int { ProtocolConstants.helloOKBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(version)
        bytes.appendLittleEndian(pullLimitMax)
        bytes.appendLittleEndian(frameLengthMax)
        bytes.appendLittleEndian(messageBodySizeMax)
        bytes.appendLittleEndian(heartbeatIntervalMs)
        bytes.appendLittleEndian(idleTimeoutMs)
        bytes.appendLittleEndian(requestsInFlightMax)
        bytes.appendLittleEndian(UInt16(0))
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        version = try reader.read()
        pullLimitMax = try reader.read()
        frameLengthMax = try reader.read()
        messageBodySizeMax = try reader.read()
        heartbeatIntervalMs = try reader.read()
        idleTimeoutMs = try reader.read()
        requestsInFlightMax = try reader.read()
        try reader.readReserved(UInt16.self)
    }
}
