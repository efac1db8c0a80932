/// The body coding of one frame type. Each payload struct (`Frame.Hello`, `Frame.Send`, …)
/// conforms next to its field table, so a body's layout lives in one place.
protocol FramePayload {
    /// The frame type whose body this is.
    static var frameType: FrameType { get }
    /// Bytes `encode(into:)` appends.
    var bodySize: Int { get }
    /// Appends the body; the caller has called `validate(limits:)` or otherwise knows it passes.
    func encode(into bytes: inout [UInt8])
    /// Reads the body; `FrameDecoder` checks `reader.finish()` afterwards.
    init(reading reader: inout WireReader) throws(ProtocolError)
    /// Throws what a decoder with `limits` would throw for this payload's field sizes.
    func validate(limits: FrameLimits) throws(ProtocolError)
}

extension FramePayload {
    func validate(limits: FrameLimits) throws(ProtocolError) {}

    /// An error about a payload of this type, before it is encoded.
    func error(_ kind: ProtocolError.Kind) -> ProtocolError {
        ProtocolError(kind, frameType: Self.frameType)
    }
}
