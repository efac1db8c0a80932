extension Frame {
    /// ERROR: a request failed, or the server is about to close (PROTOCOL.md §5.17 and §9).
    /// Body: code u16 | flags u8 (bit 0 closing) | reserved u8 | retryAfterMs u32 |
    /// messageLength u16 | message (UTF-8).
    public struct ErrorReport: Hashable, Sendable {
        /// What went wrong; PROTOCOL.md §9 says what the client does.
        public var code: ErrorCode
        /// The server closes the connection after this frame.
        public var closing: Bool
        /// For `rateLimited`, `unavailable`, `overloaded`: wait at least this long before
        /// retrying (0: use the reconnect backoff).
        public var retryAfterMs: UInt32
        /// A human-readable detail for logs, never for program logic; at most
        /// `ProtocolConstants.errorMessageSizeMax` UTF-8 bytes.
        public private(set) var message: String

        /// An ERROR; `closing` defaults to what the code implies, and a message longer than
        /// `ProtocolConstants.errorMessageSizeMax` bytes is cut at a character boundary.
        public init(code: ErrorCode, closing: Bool? = nil, retryAfterMs: UInt32 = 0, message: String = "") {
            self.code = code
            self.closing = closing ?? code.closesConnectionByDefault
            self.retryAfterMs = retryAfterMs
            self.message = Self.clipped(message)
        }

        /// `text` cut to at most `errorMessageSizeMax` UTF-8 bytes, at a scalar boundary.
        static func clipped(_ text: String) -> String {
            let limit = ProtocolConstants.errorMessageSizeMax
            guard text.utf8.count > limit else { return text }
            var kept = String.UnicodeScalarView()
            var size = 0
            for scalar in text.unicodeScalars {
                size += UTF8.width(scalar)
                if size > limit { break }
                kept.append(scalar)
            }
            return String(kept)
        }
    }
}

extension Frame.ErrorReport: FramePayload {
    static var frameType: FrameType { .error }
    var bodySize: Int { ProtocolConstants.errorFixedSize + message.utf8.count }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(code.rawValue)
        bytes.appendLittleEndian(closing ? ProtocolConstants.errorFlagClosing : 0)
        bytes.appendLittleEndian(UInt8(0))
        bytes.appendLittleEndian(retryAfterMs)
        bytes.appendLength(message.utf8.count, as: UInt16.self)
        bytes.append(contentsOf: message.utf8)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        code = ErrorCode(try reader.read(UInt16.self))
        let flags = try reader.readFlags(known: ProtocolConstants.errorFlagClosing)
        closing = flags & ProtocolConstants.errorFlagClosing != 0
        try reader.readReserved(UInt8.self)
        retryAfterMs = try reader.read()
        let messageLength = Int(try reader.read(UInt16.self))
        guard messageLength <= ProtocolConstants.errorMessageSizeMax else {
            throw reader.error(.fieldTooLarge(length: messageLength, limit: ProtocolConstants.errorMessageSizeMax))
        }
        message = try reader.readUTF8(count: messageLength)
    }
}

/// An ERROR is also what a failed request throws or answers inside the server (the backend
/// reports failures as the ERROR the client should see).
extension Frame.ErrorReport: Error {}
