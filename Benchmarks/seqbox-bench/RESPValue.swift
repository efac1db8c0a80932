/// A whole RESP2 value as a tree, for the benchmark's control commands (PING, INFO) and the
/// codec's self-check; the load path reads replies in place with `RESPScanner` instead.
indirect enum RESPValue: Equatable, CustomStringConvertible {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case nullBulk
    case array([RESPValue])
    case nullArray

    /// The first whole value in `bytes` and the bytes it took, or nil when it is not all
    /// there yet. Throws on malformed input.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> (value: RESPValue, consumed: Int)? {
        let scanner = RESPScanner(bytes)
        guard let end = try scanner.valueEnd(from: 0) else { return nil }
        var offset = 0
        let value = try build(scanner, &offset)
        precondition(offset == end, "RESP tree and scan disagree")
        return (value, end)
    }

    static func parse(_ bytes: [UInt8]) throws -> (value: RESPValue, consumed: Int)? {
        try bytes.withUnsafeBytes { try parse($0) }
    }

    /// Builds the (complete) value at `offset`.
    private static func build(_ scanner: RESPScanner, _ offset: inout Int) throws -> RESPValue {
        let (header, next) = try scanner.header(at: offset)!
        func text(_ range: Range<Int>) -> String { String(decoding: UnsafeRawBufferPointer(rebasing: scanner.bytes[range]), as: UTF8.self) }
        switch header {
        case .simple(let range):
            offset = next
            return .simple(text(range))
        case .error(let range):
            offset = next
            return .error(text(range))
        case .integer(let value):
            offset = next
            return .integer(value)
        case .bulk:
            let (range, after) = try scanner.bulk(at: offset)!
            offset = after
            return range.map { .bulk(Array(UnsafeRawBufferPointer(rebasing: scanner.bytes[$0]))) } ?? .nullBulk
        case .array(let count):
            offset = next
            guard let count else { return .nullArray }
            var elements: [RESPValue] = []
            elements.reserveCapacity(count)
            for _ in 0 ..< count { elements.append(try build(scanner, &offset)) }
            return .array(elements)
        }
    }

    var description: String {
        switch self {
        case .simple(let text): "+" + text
        case .error(let text): "-" + text
        case .integer(let value): ":\(value)"
        case .bulk(let bytes): "$" + String(decoding: bytes, as: UTF8.self)
        case .nullBulk: "$nil"
        case .array(let elements): "[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .nullArray: "*nil"
        }
    }
}
