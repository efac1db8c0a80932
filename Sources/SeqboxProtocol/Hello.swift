extension Frame {
    /// HELLO, the first frame a client sends: the protocol versions it speaks
    /// (PROTOCOL.md §5.1). Body: magic u32 | versionMin u16 | versionMax u16.
    public struct Hello: Hashable, Sendable {
        /// The oldest protocol version the client speaks.
        public var versionMin: UInt16
        /// The newest protocol version the client speaks.
        public var versionMax: UInt16

        public init(
            versionMin: UInt16 = ProtocolConstants.protocolVersionMin,
            versionMax: UInt16 = ProtocolConstants.protocolVersion
        ) {
            self.versionMin = versionMin
            self.versionMax = versionMax
        }

        /// The newest version both this module and the client speak, if any.
        public var negotiatedVersion: UInt16? {
            let version = min(versionMax, ProtocolConstants.protocolVersion)
            let lowest = max(versionMin, ProtocolConstants.protocolVersionMin)
            return version >= lowest ? version : nil
        }
    }
}

extension Frame.Hello: FramePayload {
    static var frameType: FrameType { .hello }
    var bodySize: Int { ProtocolConstants.helloBodySize }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(ProtocolConstants.helloMagic)
        bytes.appendLittleEndian(versionMin)
        bytes.appendLittleEndian(versionMax)
    }

    init(reading reader: inout WireReader) throws(ProtocolError) {
        let magic = try reader.read(UInt32.self)
        guard magic == ProtocolConstants.helloMagic else { throw reader.error(.badMagic(magic)) }
        versionMin = try reader.read()
        versionMax = try reader.read()
    }
}
