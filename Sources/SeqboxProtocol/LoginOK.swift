extension Frame {
    /// LOGIN_OK: the mailbox's state as the client starts syncing (PROTOCOL.md §5.4). Body:
    /// newestSeq u32 | confirmedSeq u32 | deviceCursor u32 | firstSeq u32 | epoch u32.
    public struct LoginOK: Hashable, Sendable {
        /// The newest durable seq of the user's mailbox (0: empty).
        public var newestSeq: UInt32
        /// The highest seq any of the user's devices has acknowledged.
        public var confirmedSeq: UInt32
        /// The highest seq this device has acknowledged: where it syncs from when it holds
        /// nothing locally.
        public var deviceCursor: UInt32
        /// The oldest seq a PULL can still return (`newestSeq + 1` when nothing is retained).
        public var firstSeq: UInt32
        /// The mailbox's epoch (from 1; changes when the server lost acknowledged data).
        public var epoch: UInt32

        public init(newestSeq: UInt32, confirmedSeq: UInt32, deviceCursor: UInt32, firstSeq: UInt32, epoch: UInt32) {
            self.newestSeq = newestSeq
            self.confirmedSeq = confirmedSeq
            self.deviceCursor = deviceCursor
            self.firstSeq = firstSeq
            self.epoch = epoch
        }
    }
}

extension Frame.LoginOK: FramePayload {
    static var frameType: FrameType { .loginOK }
    var bodySize: Int { ProtocolConstants.loginOKBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(newestSeq)
        bytes.appendLittleEndian(confirmedSeq)
        bytes.appendLittleEndian(deviceCursor)
        bytes.appendLittleEndian(firstSeq)
        bytes.appendLittleEndian(epoch)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        newestSeq = try reader.read()
        confirmedSeq = try reader.read()
        deviceCursor = try reader.read()
        firstSeq = try reader.read()
        epoch = try reader.read()
    }
}
