/// The readable output: a markdown table of every figure with the Seqbox/SQLite ratio, and
/// the target checks.
enum ResultTable {
    static func render(_ results: [CaseResult], engines: [EngineKind]) -> String {
        var rows: [[String]] = [["Scenario", "Figure"] + engines.map(\.title) + (engines.count == 2 ? ["Seqbox/SQLite"] : [])]
        for result in results {
            var first = true
            for figure in Figure.figures(for: result.kind) {
                let values = engines.map { engine in result[engine].flatMap(figure.value) }
                if values.allSatisfy({ $0 == nil }) { continue }
                var row = [first ? result.title : "", figure.name]
                row += values.map { $0.map(Format.number) ?? "—" }
                if engines.count == 2 {
                    if let seqbox = values[0], let sqlite = values[1], sqlite != 0 { row.append(Format.ratio(seqbox / sqlite)) } else { row.append("—") }
                }
                rows.append(row)
                first = false
            }
            for error in result.errors { rows.append([first ? result.title : "", "error: " + error] + Array(repeating: "", count: rows[0].count - 2)) }
        }
        return markdown(rows, rightAligned: Set(2 ..< rows[0].count))
    }

    static func renderTargets(_ checks: [TargetCheck]) -> String {
        var rows = [["Target", "Seqbox measured", "Met"]]
        for check in checks { rows.append([check.target, check.measured, check.met.map { $0 ? "yes" : "NO" } ?? "—"]) }
        return markdown(rows, rightAligned: [1])
    }

    static func markdown(_ rows: [[String]], rightAligned: Set<Int>) -> String {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines: [String] = []
        for (index, row) in rows.enumerated() {
            let cells = row.enumerated().map { Format.pad($0.element, widths[$0.offset], right: rightAligned.contains($0.offset)) }
            lines.append("| " + cells.joined(separator: " | ") + " |")
            if index == 0 {
                lines.append("|" + widths.enumerated().map { column, width in
                    rightAligned.contains(column) ? String(repeating: "-", count: width + 1) + ":" : String(repeating: "-", count: width + 2)
                }.joined(separator: "|") + "|")
            }
        }
        return lines.joined(separator: "\n")
    }
}
