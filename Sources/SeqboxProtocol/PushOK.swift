extension Frame {
    /// PUSH_OK: the answer to PUSH_REGISTER and PUSH_UNREGISTER, once the change is durable
    /// (PROTOCOL.md §5.21). Body: flags u8 (bit 0 registered) | reserved u8 | reserved u16.
    public struct PushOK: Hashable, Sendable {
        /// Whether the device has a push token registered now: true after PUSH_REGISTER, false
        /// after PUSH_UNREGISTER.
        public var registered: Bool

        public init(registered: Bool) { self.registered = registered }
    }
}

extension Frame.PushOK: FramePayload {
    static var frameType: FrameType { .pushOK }
    var bodySize: Int { ProtocolConstants.pushOKBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(registered ? ProtocolConstants.pushOKFlagRegistered : 0)
        bytes.appendLittleEndian(UInt8(0))
        bytes.appendLittleEndian(UInt16(0))
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        let flags = try reader.readFlags(known: ProtocolConstants.pushOKFlagRegistered)
        registered = flags & ProtocolConstants.pushOKFlagRegistered != 0
        try reader.readReserved(UInt8.self)
        try reader.readReserved(UInt16.self)
    }
}
