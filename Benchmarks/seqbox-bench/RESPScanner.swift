#if canImport(Glibc)
import Glibc
#endif

/// Reads RESP2 (the Redis serialization protocol, version 2) values in place, without
/// allocating: the load generator's Redis reply path.
///
/// RESP2 knows five types, each introduced by one byte and ended by CRLF: `+simple string`,
/// `-error`, `:integer`, `$length` then that many bytes and CRLF (a bulk string; `$-1` is nil),
/// `*count` then that many values (an array; `*-1` is nil). `valueEnd(from:)` tells whether a
/// whole value is buffered; `header(at:)` and `bulk(at:)` walk one the caller knows is whole.
/// RESP3 types (maps, sets, doubles, pushes, …) are rejected as malformed: the benchmark never
/// sends HELLO 3, so a server never answers with them.
struct RESPScanner {
    /// Largest bulk string accepted (Redis's own default `proto-max-bulk-len` is 512 MB; the
    /// benchmark's replies are far smaller).
    static let bulkLengthMax = 64 << 20
    /// Largest array count accepted.
    static let arrayCountMax = 1 << 24
    /// Longest line (simple string, error, number) accepted before its CRLF.
    static let lineLengthMax = 64 << 10

    /// A malformed reply: the stream cannot be read further.
    struct Malformed: Error, CustomStringConvertible {
        let offset: Int
        let reason: String
        var description: String { "malformed RESP at byte \(offset): \(reason)" }
    }

    /// One value's first line.
    enum Header: Equatable {
        /// `+`: the text is bytes `range`.
        case simple(Range<Int>)
        /// `-`: the message is bytes `range`.
        case error(Range<Int>)
        case integer(Int64)
        /// `$`: a bulk string of `length` bytes follows (nil: the nil bulk string).
        case bulk(length: Int?)
        /// `*`: `count` values follow (nil: the nil array).
        case array(count: Int?)
    }

    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The header at `offset` and the offset after its CRLF, or nil when the line is not yet
    /// complete.
    func header(at offset: Int) throws(Malformed) -> (header: Header, next: Int)? {
        guard offset < bytes.count else { return nil }
        guard let lineEnd = try lineEnd(from: offset + 1) else { return nil }
        let content = offset + 1 ..< lineEnd
        let next = lineEnd + 2
        switch bytes[offset] {
        case UInt8(ascii: "+"): return (.simple(content), next)
        case UInt8(ascii: "-"): return (.error(content), next)
        case UInt8(ascii: ":"): return (.integer(try integer(content)), next)
        case UInt8(ascii: "$"):
            let length = try integer(content)
            if length == -1 { return (.bulk(length: nil), next) }
            guard length >= 0, length <= Self.bulkLengthMax else { throw Malformed(offset: offset, reason: "bulk length \(length)") }
            return (.bulk(length: Int(length)), next)
        case UInt8(ascii: "*"):
            let count = try integer(content)
            if count == -1 { return (.array(count: nil), next) }
            guard count >= 0, count <= Self.arrayCountMax else { throw Malformed(offset: offset, reason: "array count \(count)") }
            return (.array(count: Int(count)), next)
        default:
            throw Malformed(offset: offset, reason: "unknown type byte \(bytes[offset])")
        }
    }

    /// The bytes of the bulk string whose header is at `offset` and the offset after it (nil
    /// range: the nil bulk string). Returns nil when incomplete.
    func bulk(at offset: Int) throws(Malformed) -> (range: Range<Int>?, next: Int)? {
        guard let (header, next) = try header(at: offset) else { return nil }
        guard case .bulk(let length) = header else { throw Malformed(offset: offset, reason: "expected a bulk string") }
        guard let length else { return (nil, next) }
        let end = next + length
        guard end + 2 <= bytes.count else { return nil }
        guard bytes[end] == 13, bytes[end + 1] == 10 else { throw Malformed(offset: end, reason: "bulk string not ended by CRLF") }
        return (next ..< end, end + 2)
    }

    /// The offset just after the whole value starting at `offset`, or nil when not all of it
    /// is buffered yet. Iterative (no recursion), so nesting depth costs nothing.
    func valueEnd(from offset: Int) throws(Malformed) -> Int? {
        var position = offset
        var remaining = 1
        while remaining > 0 {
            guard let (header, next) = try header(at: position) else { return nil }
            remaining -= 1
            position = next
            switch header {
            case .bulk(let length?):
                guard position + length + 2 <= bytes.count else { return nil }
                guard bytes[position + length] == 13, bytes[position + length + 1] == 10 else {
                    throw Malformed(offset: position + length, reason: "bulk string not ended by CRLF")
                }
                position += length + 2
            case .array(let count?):
                remaining += count
            default:
                break
            }
        }
        return position
    }

    /// Whether bytes `range` equal `text`.
    func equals(_ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount, range.upperBound <= bytes.count else { return false }
        return memcmp(bytes.baseAddress! + range.lowerBound, text.utf8Start, range.count) == 0
    }

    /// The unsigned decimal number in bytes `range`, or nil if it is not one.
    func decimal(_ range: Range<Int>) -> UInt64? {
        guard !range.isEmpty, range.count <= 20 else { return nil }
        var value: UInt64 = 0
        for index in range {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    /// The index of the CR of the CRLF ending the line that starts at `start`, or nil when
    /// the line is not complete yet.
    private func lineEnd(from start: Int) throws(Malformed) -> Int? {
        var index = start
        let limit = min(bytes.count, start + Self.lineLengthMax + 1)
        while index < limit {
            if bytes[index] == 13 {
                guard index + 1 < bytes.count else { return nil }
                guard bytes[index + 1] == 10 else { throw Malformed(offset: index, reason: "CR without LF") }
                return index
            }
            index += 1
        }
        if limit < bytes.count || bytes.count - start > Self.lineLengthMax { throw Malformed(offset: start, reason: "line too long") }
        return nil
    }

    private func integer(_ range: Range<Int>) throws(Malformed) -> Int64 {
        var digits = range
        var negative = false
        if let first = digits.first, bytes[first] == UInt8(ascii: "-") {
            negative = true
            digits = digits.dropFirst()
        }
        guard digits.count <= 19, let magnitude = decimal(digits), magnitude <= UInt64(Int64.max) else {
            throw Malformed(offset: range.lowerBound, reason: "not an integer")
        }
        return negative ? -Int64(magnitude) : Int64(magnitude)
    }
}
