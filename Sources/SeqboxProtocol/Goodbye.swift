extension Frame {
    /// GOODBYE: the sender closes the connection cleanly after this frame (PROTOCOL.md §5.18).
    /// Either side sends it, request ID 0. Body: reason u16 | reserved u16 | reconnectAfterMs u32.
    public struct Goodbye: Hashable, Sendable {
        /// Why the connection ends.
        public var reason: GoodbyeReason
        /// From a server: reconnect no sooner than this (plus jitter); 0 from a client.
        public var reconnectAfterMs: UInt32

        public init(reason: GoodbyeReason, reconnectAfterMs: UInt32 = 0) {
            self.reason = reason
            self.reconnectAfterMs = reconnectAfterMs
        }
    }
}

extension Frame.Goodbye: FramePayload {
    static var frameType: FrameType { .goodbye }
    var bodySize: Int { ProtocolConstants.goodbyeBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(reason.rawValue)
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(reconnectAfterMs)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        reason = GoodbyeReason(try reader.read(UInt16.self))
        try reader.readReserved(UInt16.self)
        reconnectAfterMs = try reader.read()
    }
}
