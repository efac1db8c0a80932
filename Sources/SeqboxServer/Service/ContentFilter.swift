import SeqboxFormat

/// A message as the content filter sees it, before it is stored.
public struct ContentCandidate: Sendable {
    public var sender: UserID
    public var recipient: UserID
    public var body: [UInt8]

    public init(sender: UserID, recipient: UserID, body: [UInt8]) {
        self.sender = sender
        self.recipient = recipient
        self.body = body
    }
}

/// What a content filter decided.
public enum ContentVerdict: Equatable, Sendable {
    case accept
    /// Refused (answered `contentRejected`, nothing stored); `reason` goes to the log and the
    /// ERROR's message.
    case reject(reason: String)
}

/// A pluggable content policy (spam, abuse) the send path runs before storing a message.
///
/// Called on an event-loop thread for every SEND that passed the other checks, so it must be
/// fast and must not block; a filter that needs I/O belongs in front of the server.
public protocol ContentFilter: Sendable {
    func inspect(_ candidate: ContentCandidate) -> ContentVerdict
}

/// The filter that accepts everything.
public struct AcceptAllContentFilter: ContentFilter {
    public init() {}
    public func inspect(_ candidate: ContentCandidate) -> ContentVerdict { .accept }
}
