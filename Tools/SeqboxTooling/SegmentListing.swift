import SeqboxFormat
import SeqboxStore

/// `seqbox-dump DIR` (or `--segments`): one line per segment file: name, base position, file
/// size, extent, records, sealed or active, and whether its header and checksums verify.
struct SegmentListing {
    let source: DumpSource
    let json: Bool

    struct Row {
        var file: String
        var base: UInt64
        var size: Int
        var dataBytes: Int
        var records: Int
        var state: String
        var headerOK: Bool
        var damagedBytes: Int
        var tornTailOffset: Int?
        var strayBytes: Int

        var checksumsOK: Bool { headerOK && damagedBytes == 0 && tornTailOffset == nil && strayBytes == 0 }

        var checksumsText: String {
            var parts: [String] = []
            if !headerOK { parts.append("header bad") }
            if damagedBytes > 0 { parts.append("\(damagedBytes) bytes damaged") }
            if let tornTailOffset { parts.append("incomplete tail at \(tornTailOffset)") }
            if strayBytes > 0 { parts.append("\(strayBytes) stray bytes") }
            return parts.isEmpty ? "ok" : parts.joined(separator: ", ")
        }
    }

    func rows() -> [Row] {
        source.segments.indices.map { position in
            let file = source.segments[position]
            var visitor = CountingVisitor()
            let walk = source.walk(position, visitor: &visitor)
            return Row(file: file.name, base: file.base.rawValue, size: file.size, dataBytes: walk.dataEnd, records: walk.records,
                       state: position == source.segments.count - 1 ? "active" : "sealed", headerOK: file.headerProblem == nil,
                       damagedBytes: walk.corrupt.reduce(0) { $0 + $1.length }, tornTailOffset: walk.torn?.offset,
                       strayBytes: walk.trailing?.length ?? 0)
        }
    }

    func print(to output: ToolOutput) {
        let rows = rows()
        if json {
            for row in rows {
                var line = JSONWriter()
                line.add("file", row.file)
                line.add("base", row.base)
                line.add("size", row.size)
                line.add("dataBytes", row.dataBytes)
                line.add("records", row.records)
                line.add("state", row.state)
                line.add("checksumsOK", row.checksumsOK)
                line.add("headerOK", row.headerOK)
                line.add("damagedBytes", row.damagedBytes)
                if let offset = row.tornTailOffset { line.add("tornTailOffset", offset) } else { line.addNull("tornTailOffset") }
                line.add("strayBytes", row.strayBytes)
                output.write(line.result + "\n")
            }
            return
        }
        let table = TextTable(columns: [("FILE", .left), ("BASE", .right), ("SIZE", .right), ("DATA", .right), ("RECORDS", .right),
                                        ("STATE", .left), ("CHECKSUMS", .left)])
        let cells = rows.map { [$0.file, "\($0.base)", "\($0.size)", "\($0.dataBytes)", "\($0.records)", $0.state, $0.checksumsText] }
        output.write(table.render(cells))
        output.write("\(rows.count) segments, \(rows.reduce(0) { $0 + $1.records }) records, \(rows.reduce(0) { $0 + $1.dataBytes }) bytes of log\n")
    }
}

/// A plain-text table whose columns are as wide as their widest cell.
struct TextTable {
    enum Alignment { case left, right }
    let columns: [(title: String, alignment: Alignment)]

    func render(_ rows: [[String]]) -> String {
        var widths = columns.map(\.title.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        var text = ""
        for row in [columns.map(\.title)] + rows {
            var line = ""
            for (index, cell) in row.enumerated() {
                let last = index == row.count - 1
                let padded = columns[index].alignment == .right ? Quantity.padLeft(cell, widths[index])
                    : last ? cell : Quantity.pad(cell, widths[index])
                line += (index == 0 ? "" : "  ") + padded
            }
            text += line + "\n"
        }
        return text
    }
}
