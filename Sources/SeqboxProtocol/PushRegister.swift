extension Frame {
    /// PUSH_REGISTER: the push token of the logged-in device, so the server can wake it when
    /// messages arrive while it is offline (PROTOCOL.md §5.19). Body: platform u8 | reserved u8 |
    /// tokenLength u16 | token.
    public struct PushRegister: Hashable, Sendable {
        /// The push service the token belongs to.
        public var platform: PushPlatform
        /// The token as the platform issued it, 1...`ProtocolConstants.pushTokenSizeMax` bytes.
        public var token: [UInt8]

        public init(platform: PushPlatform, token: [UInt8]) {
            self.platform = platform
            self.token = token
        }
    }
}

extension Frame.PushRegister: FramePayload {
    static var frameType: FrameType { .pushRegister }
    var bodySize: Int { ProtocolConstants.pushRegisterFixedSize + token.count }

    /// Frame offset of the token length field, for errors about it.
    private static let tokenLengthOffset = ProtocolConstants.frameHeaderSize + 2

    func validate(limits: FrameLimits) throws(ProtocolError) {
        guard !token.isEmpty else { throw error(.invalidValue(offset: Self.tokenLengthOffset)) }
        guard token.count <= ProtocolConstants.pushTokenSizeMax else {
            throw error(.fieldTooLarge(length: token.count, limit: ProtocolConstants.pushTokenSizeMax))
        }
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(platform.rawValue)
        bytes.appendLittleEndian(UInt8(0))
        bytes.appendLength(token.count, as: UInt16.self)
        bytes.append(contentsOf: token)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        let platformOffset = reader.frameOffset
        guard let platform = PushPlatform(rawValue: try reader.read()) else {
            throw reader.error(.invalidValue(offset: platformOffset))
        }
        self.platform = platform
        try reader.readReserved(UInt8.self)
        let tokenLength = Int(try reader.read(UInt16.self))
        guard tokenLength > 0 else { throw reader.error(.invalidValue(offset: Self.tokenLengthOffset)) }
        guard tokenLength <= ProtocolConstants.pushTokenSizeMax else {
            throw reader.error(.fieldTooLarge(length: tokenLength, limit: ProtocolConstants.pushTokenSizeMax))
        }
        token = try reader.readBytes(count: tokenLength)
    }
}
