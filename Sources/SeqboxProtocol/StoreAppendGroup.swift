/// One group of a STORE_APPEND: messages the storage node appends atomically, all or none
/// (PROTOCOL.md §14.3). Layout: flags u8 (bit 0 refuseIfBlocked) | messageCount u8 | messages.
public struct StoreAppendGroup: Hashable, Sendable {
    /// Refuse the whole group with `blocked` when the owner of an incoming message's mailbox
    /// blocks its sender; checked atomically with the append.
    public var refuseIfBlocked: Bool
    /// The messages, 1...`ProtocolConstants.storeAppendGroupMessagesMax` of them, appended in
    /// this order.
    public var messages: [StoreMessage]

    public init(refuseIfBlocked: Bool, messages: [StoreMessage]) {
        self.refuseIfBlocked = refuseIfBlocked
        self.messages = messages
    }

    /// Bytes this group takes in a STORE_APPEND.
    public var encodedSize: Int {
        messages.reduce(ProtocolConstants.storeAppendGroupFixedSize) { $0 + $1.encodedSize }
    }

    /// Throws what a decoder with `limits` would throw for this group at frame offset `offset`.
    func validate(limits: FrameLimits, at offset: Int) throws(ProtocolError) {
        let countOffset = offset + 1
        guard !messages.isEmpty else { throw ProtocolError(.invalidValue(offset: countOffset), frameType: .storeAppend) }
        let max = ProtocolConstants.storeAppendGroupMessagesMax
        guard messages.count <= max else {
            throw ProtocolError(.fieldTooLarge(length: messages.count, limit: max), frameType: .storeAppend)
        }
        for message in messages where message.body.count > limits.messageBodySizeMax {
            throw ProtocolError(
                .payloadTooLarge(length: message.body.count, limit: limits.messageBodySizeMax), frameType: .storeAppend)
        }
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(refuseIfBlocked ? ProtocolConstants.storeAppendGroupFlagRefuseIfBlocked : 0)
        bytes.appendLength(messages.count, as: UInt8.self)
        for message in messages { message.encode(into: &bytes) }
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        let flags = try reader.readFlags(known: ProtocolConstants.storeAppendGroupFlagRefuseIfBlocked)
        refuseIfBlocked = flags & ProtocolConstants.storeAppendGroupFlagRefuseIfBlocked != 0
        messages = try reader.readList(
            countAs: UInt8.self, max: ProtocolConstants.storeAppendGroupMessagesMax,
            elementSizeMin: ProtocolConstants.storeMessageFixedSize, element: StoreMessage.init(reading:))
    }
}
