import SeqboxFormat
import SeqboxStore

/// Comparing a sealed segment's index file with the records the scan finds in it.
extension LogChecker {
    mutating func compareWithIndex(offset: Int, header: RecordHeader, keyHash: UInt64) {
        let count = index!.count
        var entry = indexCursor < count ? index!.entry(indexCursor) : nil
        while indexCursor < count, entry.map({ Int($0.offset) < offset }) ?? true {
            indexEntryMissing(entry)
            indexCursor += 1
            entry = indexCursor < count ? index!.entry(indexCursor) : nil
        }
        guard let entry, Int(entry.offset) == offset else {
            indexDifference("offset \(offset) holds a record (\(header.type) user \(header.user) seq \(header.seq)) the index does not list")
            return
        }
        indexCursor += 1
        let expected = IndexEntry(offset: UInt32(offset), seq: header.seq, user: header.user, type: header.type, flags: header.flags,
                                  storedLength: header.storedLength, keyHash: keyHash)
        if entry != expected {
            indexDifference("entry for offset \(offset) says \(entry.type) user \(entry.user) seq \(entry.seq), the record is \(header.type) user \(header.user) seq \(header.seq)")
        }
    }

    /// An index entry with no valid record at its offset (nil: an entry that does not decode):
    /// in damaged bytes it names a lost record; elsewhere the index is wrong.
    mutating func indexEntryMissing(_ entry: IndexEntry?) {
        guard let entry else {
            indexDifference("entry \(indexCursor) does not decode")
            return
        }
        let offset = Int(entry.offset)
        if segmentDamage.contains(where: { offset >= $0.start && offset < $0.end }) {
            if entry.type == .message && entry.seq.rawValue > 0 { gapLost.add(entry.user, entry.seq.rawValue ... entry.seq.rawValue) }
        } else {
            indexDifference("lists a \(entry.type) record at offset \(offset) that the segment does not hold")
        }
    }

    mutating func indexDifference(_ text: String) {
        indexDifferences += 1
        if indexExamples.count < Self.examplesMax { indexExamples.append(text) }
    }
}
