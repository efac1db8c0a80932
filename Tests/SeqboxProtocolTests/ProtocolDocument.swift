import Foundation

/// PROTOCOL.md, read from the repository at test time, and the parts the golden tests check.
struct ProtocolDocument {
    /// A worked example: the frame name on the line before a ```hex fence, and its bytes.
    struct Example {
        var name: String
        var bytes: [UInt8]
        var line: Int
    }

    let lines: [String]

    /// Reads PROTOCOL.md at the repository root (three levels above this file).
    static func load(file: StaticString = #filePath) throws -> ProtocolDocument {
        let root = URL(fileURLWithPath: "\(file)")
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("PROTOCOL.md"), encoding: .utf8)
        return ProtocolDocument(lines: text.components(separatedBy: "\n"))
    }

    /// Every block of the form `Example: NAME` / ```hex / bytes (with `#` comments) / ```.
    func examples() throws -> [Example] {
        var examples: [Example] = []
        var index = 0
        while index < lines.count {
            defer { index += 1 }
            guard lines[index].hasPrefix("Example: "), index + 1 < lines.count, lines[index + 1] == "```hex" else {
                continue
            }
            let name = String(lines[index].dropFirst("Example: ".count)).trimmingCharacters(in: .whitespaces)
            var bytes: [UInt8] = []
            var cursor = index + 2
            while cursor < lines.count, lines[cursor] != "```" {
                bytes += try Self.hexBytes(lines[cursor], line: cursor + 1)
                cursor += 1
            }
            examples.append(Example(name: name, bytes: bytes, line: index + 1))
            index = cursor
        }
        return examples
    }

    /// The cells of the table rows whose first cell starts with `prefix` (backticks removed).
    func tableRows(firstCellPrefix prefix: String) -> [[String]] {
        lines.compactMap { line in
            guard line.hasPrefix("|") else { return nil }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "") }
            guard let first = cells.first, first.hasPrefix(prefix) else { return nil }
            return Array(cells)
        }
    }

    /// The hex bytes after `label = ` on a line of a plain code block (e.g. `mac      = …`).
    func hexValue(labelled label: String) throws -> [UInt8] {
        guard let index = lines.firstIndex(where: { $0.hasPrefix(label) && $0.contains("=") }) else {
            throw ParseError(message: "no line labelled \(label)")
        }
        let value = lines[index].split(separator: "=", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
        if !value.contains(" ") {  // One unbroken hex string.
            let pairs = stride(from: 0, to: value.count, by: 2).map { offset -> String in
                let start = value.index(value.startIndex, offsetBy: offset)
                return String(value[start ..< value.index(start, offsetBy: 2)])
            }
            return try Self.hexBytes(pairs.joined(separator: " "), line: index + 1)
        }
        return try Self.hexBytes(value, line: index + 1)
    }

    struct ParseError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The hex byte pairs of one line, ignoring a `#` comment.
    private static func hexBytes(_ line: String, line number: Int) throws -> [UInt8] {
        let data = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return try data.split(separator: " ").map { token in
            guard token.count == 2, let byte = UInt8(token, radix: 16) else {
                throw ParseError(message: "PROTOCOL.md line \(number): bad hex byte '\(token)'")
            }
            return byte
        }
    }
}
