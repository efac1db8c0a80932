import SeqboxProtocol

/// What the client state machine asks its driver to do, in order. The driver hands events to
/// the application first, then saves the state if it changed, and only then puts frames on the
/// wire: so a SEND leaves only once its message is in the saved outbox, and an ACK only once
/// the acknowledged records were delivered and their seq saved.
enum ClientAction: Equatable, Sendable {
    /// Open a TCP connection to the server; report `connected` or `connectFailed`.
    case connect
    /// Write this frame on the current connection.
    case write(Frame, requestID: UInt32)
    /// Close the current connection (a GOODBYE, if any, was written before).
    case close
    /// Hand this event to the application.
    case emit(ClientEvent)
    /// Complete the history request with this ID.
    case historyResult(id: UInt64, Result<HistoryPage, HistoryError>)
}
