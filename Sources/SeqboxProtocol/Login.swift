extension Frame {
    /// LOGIN: who the client is, proven by a token (PROTOCOL.md §5.3). Body: user u64 |
    /// device u64 | flags u8 (bit 0 fullHistory) | reserved u8 | tokenLength u16 | token.
    public struct Login: Hashable, Sendable {
        /// The user logging in: the owner of the mailbox this connection reads.
        public var user: UInt64
        /// The device, whose cursor LOGIN_OK reports and ACK moves.
        public var device: UInt64
        /// For a device without a cursor: start at the first retained seq (the whole history)
        /// rather than at the user's confirmed seq.
        public var fullHistory: Bool
        /// The login token (`LoginToken`'s bytes for this version), at most
        /// `ProtocolConstants.tokenSizeMax` bytes.
        public var token: [UInt8]

        public init(user: UInt64, device: UInt64, fullHistory: Bool = false, token: [UInt8]) {
            self.user = user
            self.device = device
            self.fullHistory = fullHistory
            self.token = token
        }
    }
}

extension Frame.Login: FramePayload {
    static var frameType: FrameType { .login }
    var bodySize: Int { ProtocolConstants.loginFixedSize + token.count }

    func validate(limits: FrameLimits) throws(ProtocolError) {
        guard token.count <= ProtocolConstants.tokenSizeMax else {
            throw error(.fieldTooLarge(length: token.count, limit: ProtocolConstants.tokenSizeMax))
        }
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(user)
        bytes.appendLittleEndian(device)
        bytes.appendLittleEndian(fullHistory ? ProtocolConstants.loginFlagFullHistory : 0)
        bytes.appendLittleEndian(UInt8(0))
        bytes.appendLength(token.count, as: UInt16.self)
        bytes.append(contentsOf: token)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        user = try reader.read()
        device = try reader.read()
        let flags = try reader.readFlags(known: ProtocolConstants.loginFlagFullHistory)
        fullHistory = flags & ProtocolConstants.loginFlagFullHistory != 0
        try reader.readReserved(UInt8.self)
        let tokenLength = Int(try reader.read(UInt16.self))
        guard tokenLength <= ProtocolConstants.tokenSizeMax else {
            throw reader.error(.fieldTooLarge(length: tokenLength, limit: ProtocolConstants.tokenSizeMax))
        }
        token = try reader.readBytes(count: tokenLength)
    }
}
