import SeqboxFormat
import SeqboxStore

/// The record filters of `seqbox-dump --records`.
struct RecordFilter {
    var user: UserID?
    var fromSeq: UInt32?
    var toSeq: UInt32?
    var segment: LogPosition?
    var type: RecordType?

    init(_ parsed: ParsedArguments) throws(UnusableInput) {
        user = try parsed.unsigned("user").map { UserID($0) }
        fromSeq = try parsed.unsigned("from-seq", in: 0 ... UInt64(UInt32.max)).map { UInt32($0) }
        toSeq = try parsed.unsigned("to-seq", in: 0 ... UInt64(UInt32.max)).map { UInt32($0) }
        if let text = parsed.value("segment") {
            let name = text.split(separator: "/").last.map(String.init) ?? text
            guard let base = FileNames.segmentBase(name) ?? UInt64(text).map({ LogPosition($0) }) else {
                throw UnusableInput("--segment: expected a base position or a segment file name, got '\(text)'")
            }
            segment = base
        }
        if let text = parsed.value("type") {
            guard let type = RecordType(name: text) else {
                throw UnusableInput("--type: unknown record type '\(text)' (one of " + RecordType.allCases.map(\.description).joined(separator: ", ") + ")")
            }
            self.type = type
        }
        if let fromSeq, let toSeq, fromSeq > toSeq { throw UnusableInput("--from-seq \(fromSeq) is above --to-seq \(toSeq)") }
    }

    /// True when any filter is set.
    var isActive: Bool { user != nil || fromSeq != nil || toSeq != nil || segment != nil || type != nil }
    /// True when a filter on record fields is set: damaged regions (which have none) are hidden.
    var selectsRecordFields: Bool { user != nil || fromSeq != nil || toSeq != nil || type != nil }

    @inline(__always)
    func matches(_ header: RecordHeader) -> Bool {
        if let user, header.user != user { return false }
        if let type, header.type != type { return false }
        if let fromSeq, header.seq.rawValue < fromSeq { return false }
        if let toSeq, header.seq.rawValue > toSeq { return false }
        return true
    }
}
