/// The sizes a decoder accepts. Each is at most the protocol's own maximum in
/// `ProtocolConstants`; a server may advertise smaller ones in HELLO_OK (PROTOCOL.md §6 "Limits").
public struct FrameLimits: Hashable, Sendable {
    /// Largest frame length field accepted; a larger declared length fails with `frameTooLarge`
    /// before any of the frame is buffered.
    public let frameLengthMax: Int
    /// Largest SEND body or PULL_OK record body accepted (`payloadTooLarge` above it).
    public let messageBodySizeMax: Int

    /// Limits at most the protocol maximums. A frame must still be able to carry one maximal
    /// message body, so `frameLengthMax` must cover a SEND and a one-record PULL_OK of it.
    public init(
        frameLengthMax: Int = ProtocolConstants.frameLengthMax,
        messageBodySizeMax: Int = ProtocolConstants.messageBodySizeMax
    ) {
        precondition(messageBodySizeMax >= 0, "negative message body limit")
        precondition(messageBodySizeMax <= ProtocolConstants.messageBodySizeMax, "body limit above the protocol's")
        precondition(frameLengthMax <= ProtocolConstants.frameLengthMax, "frame limit above the protocol's")
        precondition(
            frameLengthMax >= FrameLimits.frameLengthNeeded(messageBodySizeMax: messageBodySizeMax),
            "frame limit cannot carry one maximal message")
        self.frameLengthMax = frameLengthMax
        self.messageBodySizeMax = messageBodySizeMax
    }

    /// The protocol's own maximums: what a client accepts from a server.
    public static let protocolMaximum = FrameLimits()

    /// Tight limits for a server reading client frames: the smallest frame limit allowed, which
    /// covers a SEND with a maximal body (the largest frame a client sends) with a few bytes spare.
    public static let clientFrames = FrameLimits(
        frameLengthMax: frameLengthNeeded(messageBodySizeMax: ProtocolConstants.messageBodySizeMax))

    /// The smallest frame length that carries every client-protocol frame with bodies up to
    /// `messageBodySizeMax`: a PULL_OK with one such record (larger than a SEND of the same body).
    /// Storage RPC frames carry batches; both ends of a storage connection decode with
    /// `protocolMaximum` (PROTOCOL.md §14).
    public static func frameLengthNeeded(messageBodySizeMax: Int) -> Int {
        let pullOK = ProtocolConstants.pullOKFixedSize + ProtocolConstants.pullRecordFixedSize
        let send = ProtocolConstants.sendFixedSize
        let login = ProtocolConstants.loginFixedSize + ProtocolConstants.tokenSizeMax
        let error = ProtocolConstants.errorFixedSize + ProtocolConstants.errorMessageSizeMax
        let pushRegister = ProtocolConstants.pushRegisterFixedSize + ProtocolConstants.pushTokenSizeMax
        let body = max(pullOK + messageBodySizeMax, send + messageBodySizeMax, login, error, pushRegister)
        return ProtocolConstants.frameLengthMin + body
    }
}
