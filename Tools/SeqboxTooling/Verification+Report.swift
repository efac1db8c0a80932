import SeqboxFormat
import SeqboxStore

extension Verification {
    /// Rate of verification: scanned log bytes per second.
    var megabytesPerSecond: Double { Quantity.megabytesPerSecond(bytes: bytesScanned, seconds: seconds) }

    /// The human-readable summary fsck prints.
    func textReport(repair: RepairOutcome? = nil) -> String {
        var text = "seqbox-fsck \(files.directory)\n"
        let sealed = segments.filter { !$0.isActive }.count
        text += "segments: \(totals.segments) (\(sealed) sealed, \(totals.segments - sealed) active), log \(Quantity.bytes(totals.logBytes))\n"
        let byType = RecordType.allCases.compactMap { type in totals.recordsByType[type].map { "\(type) \($0)" } }
        text += "records: \(totals.records)" + (byType.isEmpty ? "" : " (" + byType.joined(separator: ", ") + ")") + ", users: \(totals.users)\n"
        text += "payload: \(Quantity.bytes(totals.storedPayloadBytes)) stored, \(Quantity.bytes(totals.rawPayloadBytes)) raw, " +
            "compression ratio \(Decimal.format(totals.compressionRatio, digits: 2))\n"
        let invalidCheckpoints = problems.count(.checkpointInvalid)
        text += "checkpoints: \(validCheckpoints.count) valid" + (invalidCheckpoints == 0 ? "" : ", \(invalidCheckpoints) invalid") + "\n"
        text += "verified \(Quantity.bytes(bytesScanned)) in \(Decimal.format(seconds, digits: 3)) s (\(Quantity.rate(bytes: bytesScanned, seconds: seconds)))\n"
        if problems.isEmpty {
            text += "problems: none\n"
        } else {
            text += "problems: \(problems.total)\n"
            for kind in ProblemKind.allCases where problems.count(kind) > 0 { text += "  \(kind.rawValue): \(problems.count(kind))\n" }
            for problem in problems.listed.sorted(by: { $0.kind < $1.kind }) { text += "  \(problem)\n" }
            let unlisted = problems.total - problems.listed.count
            if unlisted > 0 { text += "  … \(unlisted) more not listed\n" }
        }
        if !lost.isEmpty {
            text += "lost ranges (\(lost.seqCount) seqs):\n"
            for user in lost.users {
                text += "  user \(user): " + lost.ranges(of: user).map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
                    .joined(separator: ", ") + "\n"
            }
        }
        if !notes.isEmpty {
            text += "notes:\n"
            for note in notes { text += "  \(note)\n" }
        }
        if let repair { text += repair.textReport() }
        return text
    }

    /// The same, as one JSON object.
    func jsonReport(repair: RepairOutcome? = nil) -> String {
        var json = JSONWriter()
        json.add("directory", files.directory)
        json.add("clean", isClean)
        json.add("segments", totals.segments)
        json.add("records", totals.records)
        var byType = JSONWriter()
        for type in RecordType.allCases { byType.add(type.description, totals.recordsByType[type] ?? 0) }
        json.addRaw("recordsByType", byType.result)
        json.add("users", totals.users)
        json.add("messages", totals.messages)
        json.add("logBytes", totals.logBytes)
        json.add("storedPayloadBytes", totals.storedPayloadBytes)
        json.add("rawPayloadBytes", totals.rawPayloadBytes)
        json.add("compressionRatio", totals.compressionRatio, digits: 3)
        json.add("validCheckpoints", validCheckpoints.count)
        json.add("bytesVerified", bytesScanned)
        json.add("seconds", seconds, digits: 3)
        json.add("megabytesPerSecond", megabytesPerSecond, digits: 1)
        var counts = JSONWriter()
        for kind in ProblemKind.allCases where problems.count(kind) > 0 { counts.add(kind.rawValue, problems.count(kind)) }
        json.addRaw("problemCounts", counts.result)
        json.addRaw("problems", JSONWriter.array(problems.listed.sorted(by: { $0.kind < $1.kind }).map(\.json)))
        json.addRaw("lostRanges", JSONWriter.array(lost.all.map { range in
            var item = JSONWriter()
            item.add("user", range.user.rawValue)
            item.add("first", range.first.rawValue)
            item.add("last", range.last.rawValue)
            return item.result
        }))
        json.addRaw("notes", JSONWriter.array(notes.map(JSONWriter.quoted)))
        if let repair { json.addRaw("repair", repair.json) }
        return json.result + "\n"
    }
}

extension Problem {
    var json: String {
        var json = JSONWriter()
        json.add("kind", kind.rawValue)
        if let file { json.add("file", file) } else { json.addNull("file") }
        if let offset { json.add("offset", offset) } else { json.addNull("offset") }
        json.add("detail", detail)
        return json.result
    }
}
