import SeqboxFormat

extension MailboxStore {
    /// The records of `user`'s mailbox with seq > `after`, in order: at most `limit` of them
    /// and, past the first, at most `maxBytes` of payload. Only durable records are visible.
    /// `status` is `.truncated(firstAvailable:)` when `after + 1` is no longer retained, and
    /// `.lost` when the next seqs were lost to corruption (never a silent gap).
    public func read(user: UserID, after: Seq, limit: Int, maxBytes: Int = .max) throws(StoreError) -> ReadResult {
        var messages: [StoredMessage] = []
        let summary = try visit(user: user, after: after, limit: limit, maxBytes: maxBytes) { view in
            let payload = view.payload() ?? []
            messages.append(StoredMessage(seq: view.header.seq, sender: view.header.sender, device: view.header.device,
                                          clientMessageID: view.header.clientMessageID, timestampMs: view.header.timestampMs,
                                          outgoing: view.header.isOutgoing, payload: payload))
        }
        return ReadResult(status: summary.status, messages: messages, newestSeq: summary.newestSeq, epoch: summary.epoch,
                          hasMore: summary.hasMore)
    }

    /// Like `read`, but hands each message to `visitor` as a borrowed view of the mapped log
    /// (no copy; `storedPayload` is valid only during the call). Readers never block the
    /// writer: the state lock is held only while the positions are copied.
    public func visit(user: UserID, after: Seq, limit: Int, maxBytes: Int = .max,
                      _ visitor: (MessageView) -> Void) throws(StoreError) -> VisitSummary {
        guard limit >= 1, limit <= options.readLimitMax else {
            throw .invalidArgument("limit \(limit) is outside 1...\(options.readLimitMax)")
        }
        guard maxBytes >= 1 else { throw .invalidArgument("maxBytes must be positive") }

        // Under the lock: the head, and the (segment, offset) of each wanted record.
        var located: [(segment: Segment, offset: Int)] = []
        var summary = VisitSummary(status: .ok, count: 0, lastSeq: after, newestSeq: .zero, epoch: .initial, hasMore: false)
        var lostRange: (first: UInt32, last: UInt32)?
        stateLock.lock()
        if let slot = table.slot(of: user) {
            let state = table.states[slot]
            summary.newestSeq = Seq(state.newestSeq)
            summary.epoch = Epoch(state.epoch)
            if after.rawValue < state.newestSeq {
                let first = after.rawValue + 1
                if first < state.firstAvailable {
                    summary.status = .truncated(firstAvailable: Seq(state.firstAvailable))
                } else {
                    let last = UInt32(min(UInt64(state.newestSeq), UInt64(first) + UInt64(limit) - 1))
                    located.reserveCapacity(Int(last - first) + 1)
                    var cached: Segment? = nil
                    var seq = first
                    while seq <= last {
                        let position = state.positions[Int(seq - state.firstSeq)]
                        if PositionVector.isLost(position) {
                            if located.isEmpty {
                                var end = seq
                                while end < state.newestSeq, PositionVector.isLost(state.positions[Int(end + 1 - state.firstSeq)]) { end += 1 }
                                lostRange = (seq, end)
                            }
                            break
                        }
                        if let segment = cached, segment.contains(position) {
                            located.append((segment, Int(position - segment.base.rawValue)))
                        } else if let found = locate(position) {
                            cached = found.segment
                            located.append(found)
                        } else {
                            stateLock.unlock()
                            throw .corruptFile(path: logDirectory, reason: "user \(user) seq \(seq) points to position \(position) outside every segment")
                        }
                        seq += 1
                    }
                }
            }
        }
        stateLock.unlock()

        if let lostRange {
            summary.status = .lost(first: Seq(lostRange.first), last: Seq(lostRange.last))
            summary.hasMore = lostRange.last < summary.newestSeq.rawValue
            return summary
        }
        var bytes = 0
        for (segment, offset) in located {
            let expected = summary.lastSeq.rawValue + 1
            guard case .record(let header) = RecordCodec.decode(segment.bytes, at: offset, segmentBase: segment.base),
                  header.type == .message, header.user == user, header.seq.rawValue == expected else {
                // Damage that opening did not replay (data covered by a checkpoint): answer an
                // explicit loss for this seq, never a silent gap or a wrong record.
                stateLock.withLock { counters.damagedReads += 1 }
                if summary.count == 0 {
                    summary.status = .lost(first: Seq(expected), last: Seq(expected))
                    summary.hasMore = expected < summary.newestSeq.rawValue
                    return summary
                }
                break
            }
            bytes += Int(header.rawLength)
            if summary.count > 0 && bytes > maxBytes { break }
            visitor(MessageView(header: header, storedPayload: RecordCodec.storedPayload(segment.bytes, at: offset, header: header)))
            summary.count += 1
            summary.lastSeq = header.seq
        }
        summary.hasMore = summary.lastSeq < summary.newestSeq && summary.status == .ok
        return summary
    }
}
