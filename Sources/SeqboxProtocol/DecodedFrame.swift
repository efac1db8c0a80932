/// A frame as read off the wire: its body and the request ID from its header.
public struct DecodedFrame: Hashable, Sendable {
    /// The header's request ID: the client's ID of a request, echoed in its reply; 0 for NOTIFY
    /// and GOODBYE (PROTOCOL.md §2 "Request IDs").
    public var requestID: UInt32
    /// The decoded frame.
    public var frame: Frame

    public init(requestID: UInt32, frame: Frame) {
        self.requestID = requestID
        self.frame = frame
    }
}
