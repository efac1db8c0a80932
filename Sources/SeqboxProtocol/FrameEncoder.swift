/// Turns frames into bytes (PROTOCOL.md §2 and §5). Stateless.
///
/// An invalid frame (a field above its limit, a request ID against its type's rule) is a
/// programming error and stops the process; check values from outside with
/// `Frame.validate(limits:)` first.
public enum FrameEncoder {
    /// The frame's bytes: header, then body.
    public static func encode(_ frame: Frame, requestID: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        encode(frame, requestID: requestID, into: &bytes)
        return bytes
    }

    /// Appends the frame's bytes to `bytes` (a connection's output buffer), growing it once.
    public static func encode(_ frame: Frame, requestID: UInt32, into bytes: inout [UInt8]) {
        let payload = frame.payload
        precondition((try? frame.validate()) != nil, "invalid \(frame.type) frame")
        precondition(requestIDIsValid(requestID, for: frame.type), "request ID \(requestID) invalid for \(frame.type)")
        let start = bytes.count
        let bodySize = payload.bodySize
        bytes.reserveCapacity(start + ProtocolConstants.frameHeaderSize + bodySize)
        FrameHeader.encode(type: frame.type, requestID: requestID, bodySize: bodySize, into: &bytes)
        payload.encode(into: &bytes)
        assert(bytes.count - start == ProtocolConstants.frameHeaderSize + bodySize, "body size mismatch")
    }

    /// Bytes `encode` produces for `frame`, header included.
    public static func encodedSize(of frame: Frame) -> Int {
        ProtocolConstants.frameHeaderSize + frame.payload.bodySize
    }

    /// Whether `requestID` obeys the rule of frames of `type`.
    public static func requestIDIsValid(_ requestID: UInt32, for type: FrameType) -> Bool {
        switch type.requestIDRule {
        case .nonZero: requestID != 0
        case .zero: requestID == 0
        case .any: true
        }
    }
}
