import Foundation

/// FORMAT.md as the golden tests read it: the hex blocks marked `<!-- golden: NAME key=value -->`
/// and the tables marked `<!-- golden-fields: NAME -->`, `<!-- golden-constants -->` and
/// `<!-- golden-record-types -->`. Parsing is strict: a malformed block or row is an error, so
/// an edit to the document that the tests can no longer read fails loudly.
struct FormatDocument {
    /// A parse failure, naming the document line.
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    /// A marked hex dump: `startOffset` is the file offset of its first byte.
    struct HexBlock {
        var name: String
        var parameters: [String: String]
        var startOffset: Int
        var bytes: [UInt8]
    }

    /// A value in a field table: an integer (decimal or 0x hex) or a quoted string (its UTF-8 bytes).
    enum FieldValue: Equatable, CustomStringConvertible {
        case integer(UInt64)
        case bytes([UInt8])

        var description: String {
            switch self {
            case .integer(let value): "\(value) (0x\(String(value, radix: 16)))"
            case .bytes(let bytes): "bytes \(bytes)" + (String(bytes: bytes, encoding: .utf8).map { " \"\($0)\"" } ?? "")
            }
        }
    }

    /// One row of a field table: `size` bytes at `offset` from the start of the block.
    struct FieldRow {
        var offset: Int
        var size: Int
        var field: String
        var value: FieldValue
        var line: Int
    }

    /// Largest hex block the tests accept (bounds the parser).
    static let hexBlockBytesMax = 4096

    let lines: [String]

    /// The repository's FORMAT.md, found from this source file's path.
    static func load(sourceFile: String = #filePath) throws -> FormatDocument {
        let url = repositoryRoot(sourceFile: sourceFile).appendingPathComponent("FORMAT.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        return FormatDocument(lines: text.components(separatedBy: "\n"))
    }

    /// Tests/SeqboxFormatTests/<file> → the repository root.
    static func repositoryRoot(sourceFile: String = #filePath) -> URL {
        URL(fileURLWithPath: sourceFile).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Names of every `<!-- golden: NAME ... -->` marker, in document order.
    var hexBlockNames: [String] {
        lines.compactMap { line in
            guard let words = Self.markerWords(line, kind: "golden:") else { return nil }
            return words.first
        }
    }

    /// The `## ` / `### ` headings' titles.
    var headings: Set<String> {
        Set(lines.compactMap { line in
            guard line.hasPrefix("#") else { return nil }
            let title = line.drop(while: { $0 == "#" })
            return title.hasPrefix(" ") ? title.trimmingCharacters(in: .whitespaces) : nil
        })
    }

    func hexBlock(_ name: String) throws -> HexBlock {
        guard let markerIndex = lines.firstIndex(where: { Self.markerWords($0, kind: "golden:")?.first == name }) else {
            throw ParseError(description: "FORMAT.md has no `<!-- golden: \(name) -->` marker")
        }
        var parameters: [String: String] = [:]
        for word in Self.markerWords(lines[markerIndex], kind: "golden:")!.dropFirst() {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ParseError(description: "line \(markerIndex + 1): parameter `\(word)` is not key=value") }
            parameters[parts[0]] = parts[1]
        }
        var index = markerIndex + 1
        while index < lines.count, lines[index].trimmingCharacters(in: .whitespaces).isEmpty { index += 1 }
        guard index < lines.count, lines[index].trimmingCharacters(in: .whitespaces) == "```hex" else {
            throw ParseError(description: "line \(index + 1): expected a ```hex fence after the golden marker \(name)")
        }
        index += 1
        var bytes: [UInt8] = []
        var startOffset: Int?
        while true {
            guard index < lines.count else { throw ParseError(description: "hex block \(name) has no closing fence") }
            let line = lines[index].trimmingCharacters(in: .whitespaces)
            if line == "```" { break }
            let (offset, lineBytes) = try Self.parseHexLine(line, lineNumber: index + 1)
            if startOffset == nil { startOffset = offset }
            guard offset == startOffset! + bytes.count else {
                throw ParseError(description: "line \(index + 1): offset 0x\(String(offset, radix: 16)) does not continue the block")
            }
            bytes += lineBytes
            guard bytes.count <= Self.hexBlockBytesMax else { throw ParseError(description: "hex block \(name) is too long") }
            index += 1
        }
        guard let startOffset, !bytes.isEmpty else { throw ParseError(description: "hex block \(name) is empty") }
        return HexBlock(name: name, parameters: parameters, startOffset: startOffset, bytes: bytes)
    }

    func fieldRows(_ name: String) throws -> [FieldRow] {
        try tableRows(marker: "<!-- golden-fields: \(name) -->").map { cells, lineNumber in
            guard cells.count >= 4, let offset = Int(cells[0]), let size = Int(cells[1]) else {
                throw ParseError(description: "line \(lineNumber): a field row needs offset | size | field | value")
            }
            return FieldRow(offset: offset, size: size, field: cells[2], value: try Self.parseValue(cells[3], lineNumber: lineNumber),
                            line: lineNumber)
        }
    }

    /// Data rows (cells, line number) of the table right after `marker`.
    func tableRows(marker: String) throws -> [([String], Int)] {
        guard let markerIndex = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == marker }) else {
            throw ParseError(description: "FORMAT.md has no `\(marker)` marker")
        }
        var index = markerIndex + 1
        while index < lines.count, lines[index].trimmingCharacters(in: .whitespaces).isEmpty { index += 1 }
        var rows: [([String], Int)] = []
        var seenSeparator = false
        while index < lines.count, lines[index].hasPrefix("|") {
            let cells = lines[index].split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.allSatisfy({ $0.allSatisfy { "-:".contains($0) } && !$0.isEmpty }) {
                seenSeparator = true
            } else if seenSeparator {
                rows.append((cells, index + 1))
            }
            index += 1
        }
        guard seenSeparator, !rows.isEmpty else { throw ParseError(description: "line \(markerIndex + 1): no table after `\(marker)`") }
        return rows
    }

    /// "0040: d5 9f …" → (0x40, bytes).
    static func parseHexLine(_ line: String, lineNumber: Int) throws -> (Int, [UInt8]) {
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let offset = Int(parts[0], radix: 16) else {
            throw ParseError(description: "line \(lineNumber): a hex line starts with `OFFSET:`")
        }
        let bytes = try parts[1].split(separator: " ").map { token -> UInt8 in
            guard token.count == 2, let byte = UInt8(token, radix: 16) else {
                throw ParseError(description: "line \(lineNumber): `\(token)` is not a hex byte")
            }
            return byte
        }
        return (offset, bytes)
    }

    /// `"text"` → its bytes; `0x1f`, `1_000` or `42 (note)` → the integer.
    static func parseValue(_ cell: String, lineNumber: Int) throws -> FieldValue {
        if cell.hasPrefix("\"") {
            let inner = cell.dropFirst()
            guard let close = inner.firstIndex(of: "\"") else { throw ParseError(description: "line \(lineNumber): unterminated string") }
            return .bytes(Array(inner[..<close].utf8))
        }
        let token = String(cell.split(separator: " ").first ?? "").replacingOccurrences(of: "_", with: "").replacingOccurrences(of: "`", with: "")
        let value = token.hasPrefix("0x") ? UInt64(token.dropFirst(2), radix: 16) : UInt64(token)
        guard let value else { throw ParseError(description: "line \(lineNumber): `\(cell)` is neither an integer nor a string") }
        return .integer(value)
    }

    /// The words inside `<!-- KIND … -->`, or nil when `line` is not such a marker.
    static func markerWords(_ line: String, kind: String) -> [String]? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        let prefix = "<!-- " + kind
        guard trimmed.hasPrefix(prefix), trimmed.hasSuffix("-->") else { return nil }
        return trimmed.dropFirst(prefix.count).dropLast(3).split(separator: " ").map(String.init)
    }
}
