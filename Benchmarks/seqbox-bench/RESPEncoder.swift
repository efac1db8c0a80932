/// Writes Redis commands as RESP2 arrays of bulk strings, the only form a client sends:
/// `*<count>\r\n` then `$<length>\r\n<bytes>\r\n` per argument.
enum RESPEncoder {
    static func command(_ arguments: [[UInt8]], into buffer: ByteBuffer) {
        arrayHeader(arguments.count, into: buffer)
        for argument in arguments { argument.withUnsafeBytes { bulk($0, into: buffer) } }
    }

    static func command(_ arguments: [String]) -> [UInt8] {
        let buffer = ByteBuffer()
        command(arguments.map { Array($0.utf8) }, into: buffer)
        return Array(buffer.readable)
    }

    static func arrayHeader(_ count: Int, into buffer: ByteBuffer) {
        buffer.appendByte(UInt8(ascii: "*"))
        buffer.appendDecimal(count)
        crlf(buffer)
    }

    static func bulk(_ bytes: UnsafeRawBufferPointer, into buffer: ByteBuffer) {
        bulkHeader(bytes.count, into: buffer)
        buffer.append(bytes)
        crlf(buffer)
    }

    static func bulkHeader(_ length: Int, into buffer: ByteBuffer) {
        buffer.appendByte(UInt8(ascii: "$"))
        buffer.appendDecimal(length)
        crlf(buffer)
    }

    /// A bulk string holding the decimal digits of `value`, written without an intermediate
    /// string (the XADD field carrying a message's scheduled send time).
    static func decimalBulk(_ value: UInt64, into buffer: ByteBuffer) {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        bulkHeader(digits, into: buffer)
        buffer.appendDecimal(value)
        crlf(buffer)
    }

    @inline(__always)
    static func crlf(_ buffer: ByteBuffer) {
        buffer.appendByte(13)
        buffer.appendByte(10)
    }
}
