extension Frame {
    /// STORE_LOGIN_STATE: the state of `user`'s mailbox as a LOGIN of `device` sees it
    /// (PROTOCOL.md §14.6). Answered with LOGIN_OK or ERROR. Body: user u64 | device u64 |
    /// flags u8 (bit 0 fullHistory) | reserved u8 | reserved u16.
    public struct StoreLoginState: Hashable, Sendable {
        /// The mailbox owner.
        public var user: UInt64
        /// The device whose cursor LOGIN_OK reports.
        public var device: UInt64
        /// As LOGIN's flag: a device without a cursor starts at the first retained seq.
        public var fullHistory: Bool

        public init(user: UInt64, device: UInt64, fullHistory: Bool) {
            self.user = user
            self.device = device
            self.fullHistory = fullHistory
        }
    }
}

extension Frame.StoreLoginState: FramePayload {
    static var frameType: FrameType { .storeLoginState }
    var bodySize: Int { ProtocolConstants.storeLoginStateBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(user)
        bytes.appendLittleEndian(device)
        bytes.appendLittleEndian(fullHistory ? ProtocolConstants.storeLoginStateFlagFullHistory : 0)
        bytes.appendLittleEndian(UInt8(0))
        bytes.appendLittleEndian(UInt16(0))
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        user = try reader.read()
        device = try reader.read()
        let flags = try reader.readFlags(known: ProtocolConstants.storeLoginStateFlagFullHistory)
        fullHistory = flags & ProtocolConstants.storeLoginStateFlagFullHistory != 0
        try reader.readReserved(UInt8.self)
        try reader.readReserved(UInt16.self)
    }
}
