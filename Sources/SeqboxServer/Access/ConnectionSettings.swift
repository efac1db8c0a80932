import SeqboxProtocol

/// The per-connection settings derived once from `AccessConfiguration` and shared by every
/// connection (a reference, so a connection pays one pointer for them).
final class ConnectionSettings: Sendable {
    /// HELLO_OK's body without the negotiated version (filled in per connection).
    let helloOK: Frame.HelloOK
    /// Decoder limits for client frames.
    let frameLimits: FrameLimits
    let idleTimeoutMs: Int64
    let handshakeTimeoutMs: Int64
    let requestsInFlightMax: Int
    let closeFlushTimeoutMs: Int64
    let outputBufferBytesMax: Int
    let outputBufferRetainedBytesMax: Int
    /// GOODBYE sent to every connection at shutdown.
    let shutdownGoodbye: Frame.Goodbye
    let overloadedRetryAfterMs: UInt32

    init(_ configuration: AccessConfiguration) {
        helloOK = Frame.HelloOK(
            version: ProtocolConstants.protocolVersion,
            pullLimitMax: UInt16(configuration.pullLimitMax),
            frameLengthMax: UInt32(configuration.sentFrameLengthMax),
            messageBodySizeMax: UInt32(configuration.frameLimits.messageBodySizeMax),
            heartbeatIntervalMs: configuration.heartbeatIntervalMs,
            idleTimeoutMs: configuration.idleTimeoutMs,
            requestsInFlightMax: UInt16(configuration.requestsInFlightMax))
        frameLimits = configuration.frameLimits
        idleTimeoutMs = Int64(configuration.idleTimeoutMs)
        handshakeTimeoutMs = Int64(configuration.handshakeTimeoutMs)
        requestsInFlightMax = configuration.requestsInFlightMax
        closeFlushTimeoutMs = Int64(configuration.closeFlushTimeoutMs)
        outputBufferBytesMax = configuration.outputBufferBytesMax
        outputBufferRetainedBytesMax = configuration.outputBufferRetainedBytesMax
        shutdownGoodbye = Frame.Goodbye(reason: .serverShutdown, reconnectAfterMs: configuration.shutdownReconnectAfterMs)
        overloadedRetryAfterMs = configuration.overloadedRetryAfterMs
    }
}
