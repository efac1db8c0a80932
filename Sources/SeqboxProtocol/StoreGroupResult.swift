/// The outcome of one STORE_APPEND group (PROTOCOL.md §14.4). Layout: status u8 (0 stored,
/// 1 failed), then for `stored` copyCount u8 and the copies (`StoreCopy`), for `failed` an ERROR
/// body (§5.17).
public enum StoreGroupResult: Hashable, Sendable {
    /// Every message of the group is durable: one copy per message, in the group's order.
    case stored([StoreCopy])
    /// Nothing of the group was stored, for the reason the report gives (`blocked`,
    /// `sequenceExhausted`, `unavailable`, …). Its closing flag has no meaning here.
    case failed(Frame.ErrorReport)

    /// Bytes this result takes in a STORE_APPEND_OK.
    public var encodedSize: Int {
        switch self {
        case .stored(let copies):
            ProtocolConstants.storeGroupStoredFixedSize + copies.count * ProtocolConstants.storeCopySize
        case .failed(let report):
            ProtocolConstants.storeGroupFailedFixedSize + report.bodySize
        }
    }

    /// Throws what a decoder would throw for this result at frame offset `offset`.
    func validate(at offset: Int) throws(ProtocolError) {
        guard case .stored(let copies) = self else { return }
        guard !copies.isEmpty else { throw ProtocolError(.invalidValue(offset: offset + 1), frameType: .storeAppendOK) }
        let max = ProtocolConstants.storeAppendGroupMessagesMax
        guard copies.count <= max else {
            throw ProtocolError(.fieldTooLarge(length: copies.count, limit: max), frameType: .storeAppendOK)
        }
    }

    func encode(into bytes: inout [UInt8]) {
        switch self {
        case .stored(let copies):
            bytes.appendLittleEndian(ProtocolConstants.storeGroupStatusStored)
            bytes.appendLength(copies.count, as: UInt8.self)
            for copy in copies { copy.encode(into: &bytes) }
        case .failed(let report):
            bytes.appendLittleEndian(ProtocolConstants.storeGroupStatusFailed)
            report.encode(into: &bytes)
        }
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        let statusOffset = reader.frameOffset
        switch try reader.read(UInt8.self) {
        case ProtocolConstants.storeGroupStatusStored:
            self = .stored(try reader.readList(
                countAs: UInt8.self, max: ProtocolConstants.storeAppendGroupMessagesMax,
                elementSizeMin: ProtocolConstants.storeCopySize, element: StoreCopy.init(reading:)))
        case ProtocolConstants.storeGroupStatusFailed:
            self = .failed(try Frame.ErrorReport(reading: &reader))
        default:
            throw reader.error(.invalidValue(offset: statusOffset))
        }
    }
}
