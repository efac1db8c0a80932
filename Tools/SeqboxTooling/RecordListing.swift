import SeqboxFormat
import SeqboxStore

/// `seqbox-dump --records`: the records of the log in order, filtered, as a table, JSON lines
/// or hex dumps, with damaged regions and incomplete tails shown where they are.
struct RecordListing {
    enum Style { case table, json, hex }

    let source: DumpSource
    let filter: RecordFilter
    let style: Style
    let limit: Int?

    /// Table columns and their widths (values wider than a column push the rest right).
    static let columns: [(String, Int)] = [
        ("SEGMENT", 10), ("OFFSET", 8), ("TYPE", 8), ("USER", 8), ("SEQ", 8), ("TIME-MS", 14), ("SENDER", 8), ("DEVICE", 7),
        ("CLIENT-ID", 10), ("FLAGS", 6), ("STORED", 7), ("RAW", 7), ("DETAIL", 0),
    ]
    /// Characters of payload text shown in the table.
    static let previewCharactersMax = 32

    func print(to output: ToolOutput) throws(UnusableInput) {
        var positions = Array(source.segments.indices)
        if let wanted = filter.segment {
            positions = positions.filter { source.segments[$0].base == wanted }
            guard !positions.isEmpty else { throw UnusableInput("--segment: no segment \(FileNames.segment(wanted)) in the store") }
        }
        if style == .table { output.write(Self.row(Self.columns.map(\.0))) }
        var printer = RecordPrinter(output: output, filter: filter, style: style, remaining: limit ?? .max)
        for position in positions where printer.remaining > 0 {
            let file = source.segments[position]
            printer.segment = file
            let walk = source.walk(position, visitor: &printer)
            if let torn = walk.torn, !filter.selectsRecordFields {
                printer.printRegion(offset: torn.offset, length: torn.end - torn.offset, kind: "torn-tail",
                                    detail: "incomplete tail (\(torn.problem)): an interrupted write, or one in progress")
            }
            if let stray = walk.trailing, !filter.selectsRecordFields {
                printer.printRegion(offset: stray.start, length: stray.length, kind: "stray", detail: "nonzero bytes beyond the segment's extent")
            }
        }
    }

    static func row(_ cells: [String]) -> String {
        var line = ""
        for (index, cell) in cells.enumerated() {
            let width = columns[index].1
            line += index == cells.count - 1 ? cell : Quantity.pad(cell, width) + " "
        }
        return line + "\n"
    }
}

/// Prints each record the walk visits (and each damaged region) in the chosen style.
struct RecordPrinter: RecordVisitor {
    let output: ToolOutput
    let filter: RecordFilter
    let style: RecordListing.Style
    var remaining: Int
    var segment: SegmentFile?

    mutating func visit(offset: Int, header: RecordHeader) {
        guard remaining > 0, filter.matches(header), let segment else { return }
        remaining -= 1
        switch style {
        case .table: output.write(tableRow(offset: offset, header: header, segment: segment))
        case .json: output.write(jsonLine(offset: offset, header: header, segment: segment))
        case .hex: output.write(hexDump(offset: offset, header: header, segment: segment))
        }
    }

    mutating func damaged(_ region: BadRegion) {
        guard !filter.selectsRecordFields else { return }
        printRegion(offset: region.start, length: region.length, kind: "damaged", detail: "does not verify (\(region.problem))")
    }

    mutating func printRegion(offset: Int, length: Int, kind: String, detail: String) {
        guard remaining > 0, let segment else { return }
        remaining -= 1
        switch style {
        case .table:
            output.write(RecordListing.row(["\(segment.base)", "\(offset)", kind, "", "", "", "", "", "", "", "\(length)", "", detail]))
        case .json:
            var line = JSONWriter()
            line.add("segment", segment.base.rawValue)
            line.add("offset", offset)
            line.add("position", segment.base.rawValue + UInt64(offset))
            line.add("type", kind)
            line.add("length", length)
            line.add("detail", detail)
            output.write(line.result + "\n")
        case .hex:
            output.write("segment \(segment.base) offset \(offset): \(kind), \(length) bytes: \(detail)\n")
            let end = min(offset + length, segment.size)
            output.write(Self.hexLines(segment.bytes, from: offset, to: min(end, offset + Self.hexRegionBytesMax)))
        }
    }

    /// Bytes of a damaged region shown by `--hex`.
    static let hexRegionBytesMax = 256

    // MARK: Styles

    private func tableRow(offset: Int, header: RecordHeader, segment: SegmentFile) -> String {
        let flags = (header.isCompressed ? "c" : "") + (header.isOutgoing ? "o" : "") +
            (header.flags & FormatConstants.flagBatchStart != 0 ? "b" : "")
        let cells = ["\(segment.base)", "\(offset)", header.type.description, "\(header.user)", "\(header.seq)", "\(header.timestampMs)",
                     "\(header.sender)", "\(header.device)", "\(header.clientMessageID)", flags.isEmpty ? "-" : flags,
                     "\(header.storedLength)", "\(header.rawLength)", detail(offset: offset, header: header, segment: segment)]
        return RecordListing.row(cells)
    }

    private func detail(offset: Int, header: RecordHeader, segment: SegmentFile) -> String {
        switch header.type {
        case .message:
            guard let payload = RecordCodec.payload(segment.bytes, at: offset, header: header) else { return "<payload does not decode>" }
            guard let text = String(validating: payload, as: UTF8.self) else { return "<\(payload.count) bytes, not UTF-8>" }
            let shown = text.count > RecordListing.previewCharactersMax ? String(text.prefix(RecordListing.previewCharactersMax)) + "…" : text
            return JSONWriter.quoted(shown)
        case .ack: return "device \(header.device) acknowledged seq \(header.seq)"
        case .block: return "blocks user \(header.sender)"
        case .unblock: return "unblocks user \(header.sender)"
        case .epochChange:
            return "epoch \(UInt32(truncatingIfNeeded: header.clientMessageID.rawValue)), lost seqs " +
                "\(UInt32(truncatingIfNeeded: header.sender.rawValue))-\(UInt32(truncatingIfNeeded: header.device.rawValue))"
        case .padding: return "padding written by a repair"
        }
    }

    private func jsonLine(offset: Int, header: RecordHeader, segment: SegmentFile) -> String {
        var line = JSONWriter()
        line.add("segment", segment.base.rawValue)
        line.add("offset", offset)
        line.add("position", segment.base.rawValue + UInt64(offset))
        line.add("type", header.type.description)
        line.add("user", header.user.rawValue)
        line.add("seq", header.seq.rawValue)
        line.add("timestampMs", header.timestampMs)
        line.add("sender", header.sender.rawValue)
        line.add("device", header.device.rawValue)
        line.add("clientMessageId", header.clientMessageID.rawValue)
        line.add("compressed", header.isCompressed)
        line.add("outgoing", header.isOutgoing)
        line.add("batchStart", header.flags & FormatConstants.flagBatchStart != 0)
        line.add("storedLength", header.storedLength)
        line.add("rawLength", header.rawLength)
        line.add("checksum", Hex.padded(header.checksum, digits: 16))
        switch header.type {
        case .message:
            if let payload = RecordCodec.payload(segment.bytes, at: offset, header: header) {
                if let text = String(validating: payload, as: UTF8.self) {
                    line.add("payloadUTF8", text)
                } else {
                    line.add("payloadBase64", Base64.encode(payload))
                }
            }
        case .epochChange:
            line.add("epoch", UInt32(truncatingIfNeeded: header.clientMessageID.rawValue))
            line.add("lostFirst", UInt32(truncatingIfNeeded: header.sender.rawValue))
            line.add("lostLast", UInt32(truncatingIfNeeded: header.device.rawValue))
        default:
            break
        }
        return line.result + "\n"
    }

    private func hexDump(offset: Int, header: RecordHeader, segment: SegmentFile) -> String {
        "segment \(segment.base) offset \(offset): \(header.type) user \(header.user) seq \(header.seq), \(header.recordSize) bytes\n" +
            Self.hexLines(segment.bytes, from: offset, to: offset + header.recordSize)
    }

    /// `xxd`-style lines: file offset, 16 bytes in hex, the printable ones as text.
    static func hexLines(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> String {
        var text = ""
        var line = start
        while line < end {
            let stop = min(line + 16, end)
            let chunk = UnsafeRawBufferPointer(rebasing: bytes[line ..< stop])
            var hex = ""
            for (index, byte) in chunk.enumerated() {
                hex += Hex.string([byte]) + (index == 7 ? "  " : " ")
            }
            let printable = String(decoding: chunk.map { $0 >= 0x20 && $0 < 0x7f ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
            text += "  " + Hex.padded(UInt64(line), digits: 8) + "  " + Quantity.pad(hex, 49) + " |" + printable + "|\n"
            line = stop
        }
        return text
    }
}
