import SeqboxFormat
import SeqboxStore

/// `seqbox-dump --stats`: totals, per-user message counts and bytes, top users by messages and
/// by bytes, and the cursor of every device.
struct DumpStats {
    let source: DumpSource
    let fileSystem: any FileSystem
    let json: Bool
    /// Users listed in the per-user table (0: all).
    let limit: Int
    let top: Int

    /// Accumulates the ledger and totals over the log.
    struct Collector: RecordVisitor {
        var ledger = MailboxLedger()
        var totals = LogTotals()

        mutating func visit(offset: Int, header: RecordHeader) {
            totals.count(header.type)
            guard header.type != .padding else {
                totals.paddingBytes += Int64(header.recordSize)
                return
            }
            let slot = ledger.slotCreating(header.user)
            guard header.type == .message else {
                ledger.applyState(header, slot: slot)
                return
            }
            ledger.tallies[slot].messages += 1
            ledger.tallies[slot].newestSeq = max(ledger.tallies[slot].newestSeq, header.seq.rawValue)
            ledger.tallies[slot].storedBytes += Int64(header.storedLength)
            ledger.tallies[slot].rawBytes += Int64(header.rawLength)
            totals.messages += 1
            totals.storedPayloadBytes += Int64(header.storedLength)
            totals.rawPayloadBytes += Int64(header.rawLength)
        }

        mutating func damaged(_ region: BadRegion) {}
    }

    struct UserRow {
        var user: UInt64
        var messages: Int
        var storedBytes: Int64
        var rawBytes: Int64
        var newestSeq: UInt32
        var epoch: UInt32
    }

    func collect() -> (Collector, [UserRow], [(user: UInt64, device: UInt64, seq: UInt32, newest: UInt32)]) {
        var collector = Collector()
        for position in source.segments.indices {
            let walk = source.walk(position, visitor: &collector)
            collector.totals.logBytes += Int64(walk.dataEnd)
        }
        collector.totals.segments = source.segments.count
        // Acks in segments removed by retention live on in the newest checkpoint.
        source.newestCheckpoint(fileSystem: fileSystem) { view in
            guard !view.cursors.isEmpty, let slot = collector.ledger.slot(of: view.user) else { return }
            for cursor in view.cursors { collector.ledger.advanceCursor(slot: slot, device: cursor.device, to: cursor.seq) }
        }
        let ledger = collector.ledger
        collector.totals.users = ledger.count
        var users: [UserRow] = []
        var cursors: [(user: UInt64, device: UInt64, seq: UInt32, newest: UInt32)] = []
        for slot in ledger.slots.map(Int.init) {
            let tally = ledger.tallies[slot]
            let user = ledger.user(at: slot).rawValue
            users.append(UserRow(user: user, messages: tally.messages, storedBytes: tally.storedBytes, rawBytes: tally.rawBytes,
                                 newestSeq: tally.newestSeq, epoch: tally.epoch))
            for cursor in ledger.extras(of: slot)?.cursors ?? [] {
                cursors.append((user, cursor.device.rawValue, cursor.seq.rawValue, tally.newestSeq))
            }
        }
        users.sort { $0.user < $1.user }
        cursors.sort { ($0.user, $0.device) < ($1.user, $1.device) }
        return (collector, users, cursors)
    }

    func print(to output: ToolOutput) {
        let (collector, users, cursors) = collect()
        let totals = collector.totals
        let byMessages = Array(users.sorted { ($0.messages, $1.user) > ($1.messages, $0.user) }.prefix(top))
        let byBytes = Array(users.sorted { ($0.storedBytes, $1.user) > ($1.storedBytes, $0.user) }.prefix(top))
        let listed = limit == 0 ? users : Array(users.prefix(limit))
        let listedCursors = limit == 0 ? cursors : Array(cursors.prefix(limit))
        if json {
            output.write(jsonReport(totals, users: listed, byMessages: byMessages, byBytes: byBytes, cursors: listedCursors))
            return
        }
        var text = "segments: \(totals.segments), log bytes: \(totals.logBytes), records: \(totals.records)"
        let byType = RecordType.allCases.compactMap { type in totals.recordsByType[type].map { "\(type) \($0)" } }
        text += byType.isEmpty ? "\n" : " (" + byType.joined(separator: ", ") + ")\n"
        text += "users: \(totals.users), messages: \(totals.messages)\n"
        text += "payload bytes: \(totals.storedPayloadBytes) stored, \(totals.rawPayloadBytes) raw, compression ratio " +
            Decimal.format(totals.compressionRatio, digits: 2) + "\n"
        let userColumns = TextTable(columns: [("USER", .right), ("MESSAGES", .right), ("STORED", .right), ("RAW", .right),
                                              ("NEWEST-SEQ", .right), ("EPOCH", .right)])
        func cells(_ rows: [UserRow]) -> [[String]] {
            rows.map { ["\($0.user)", "\($0.messages)", "\($0.storedBytes)", "\($0.rawBytes)", "\($0.newestSeq)", "\($0.epoch)"] }
        }
        text += "\ntop \(byMessages.count) users by messages:\n" + userColumns.render(cells(byMessages))
        text += "\ntop \(byBytes.count) users by stored bytes:\n" + userColumns.render(cells(byBytes))
        text += "\nmessages per user" + (listed.count < users.count ? " (first \(listed.count) of \(users.count); --limit 0 for all)" : "") + ":\n"
        text += userColumns.render(cells(listed))
        text += "\ncursors per device" + (listedCursors.count < cursors.count ? " (first \(listedCursors.count) of \(cursors.count))" : "") + ":\n"
        text += TextTable(columns: [("USER", .right), ("DEVICE", .right), ("CURSOR", .right), ("NEWEST-SEQ", .right), ("BEHIND", .right)])
            .render(listedCursors.map { ["\($0.user)", "\($0.device)", "\($0.seq)", "\($0.newest)", "\($0.newest > $0.seq ? $0.newest - $0.seq : 0)"] })
        output.write(text)
    }

    private func jsonReport(_ totals: LogTotals, users: [UserRow], byMessages: [UserRow], byBytes: [UserRow],
                            cursors: [(user: UInt64, device: UInt64, seq: UInt32, newest: UInt32)]) -> String {
        func userJSON(_ row: UserRow) -> String {
            var item = JSONWriter()
            item.add("user", row.user)
            item.add("messages", row.messages)
            item.add("storedBytes", row.storedBytes)
            item.add("rawBytes", row.rawBytes)
            item.add("newestSeq", row.newestSeq)
            item.add("epoch", row.epoch)
            return item.result
        }
        var json = JSONWriter()
        json.add("segments", totals.segments)
        json.add("logBytes", totals.logBytes)
        json.add("records", totals.records)
        var byType = JSONWriter()
        for type in RecordType.allCases { byType.add(type.description, totals.recordsByType[type] ?? 0) }
        json.addRaw("recordsByType", byType.result)
        json.add("users", totals.users)
        json.add("messages", totals.messages)
        json.add("storedPayloadBytes", totals.storedPayloadBytes)
        json.add("rawPayloadBytes", totals.rawPayloadBytes)
        json.add("compressionRatio", totals.compressionRatio, digits: 3)
        json.addRaw("topByMessages", JSONWriter.array(byMessages.map(userJSON)))
        json.addRaw("topByStoredBytes", JSONWriter.array(byBytes.map(userJSON)))
        json.addRaw("perUser", JSONWriter.array(users.map(userJSON)))
        json.addRaw("cursors", JSONWriter.array(cursors.map { cursor in
            var item = JSONWriter()
            item.add("user", cursor.user)
            item.add("device", cursor.device)
            item.add("seq", cursor.seq)
            item.add("newestSeq", cursor.newest)
            return item.result
        }))
        return json.result + "\n"
    }
}
