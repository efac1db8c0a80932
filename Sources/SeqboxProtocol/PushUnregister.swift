extension Frame {
    /// PUSH_UNREGISTER: forget the logged-in device's push token (PROTOCOL.md §5.20). Empty body.
    public struct PushUnregister: Hashable, Sendable {
        public init() {}
    }
}

extension Frame.PushUnregister: FramePayload {
    static var frameType: FrameType { .pushUnregister }
    var bodySize: Int { ProtocolConstants.pushUnregisterBodySize }
    func encode(into bytes: inout [UInt8]) {}
    init(reading reader: inout WireReader) throws(ProtocolError) {}
}
