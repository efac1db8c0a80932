import SeqboxFormat
import SeqboxProtocol
import SeqboxStore

extension EmbeddedMailboxBackend {
    /// PULL (PROTOCOL.md §5.7–5.9, §11), answered on the caller's thread from the mapped log:
    /// an old epoch or a range below the first retained seq gets TRUNCATED; `after` beyond the
    /// newest seq is `badRequest`; otherwise PULL_OK with contiguous records from `after + 1`,
    /// as many as `limit` and the frame size allow.
    public func pull(user: UserID, _ pull: Frame.Pull, limit: Int, frameLengthMax: Int,
                     completion: @escaping @Sendable (Result<Frame, Frame.ErrorReport>) -> Void) {
        let info = store.mailboxInfo(user: user)
        let epoch = WireValues.epoch(info.epoch)
        let truncated = Frame.truncated(Frame.Truncated(firstSeq: info.firstAvailable.rawValue, newestSeq: info.newestSeq.rawValue, epoch: epoch))
        if pull.epoch != 0 && pull.epoch != epoch { return completion(.success(truncated)) }
        guard pull.after <= info.newestSeq.rawValue else {
            return completion(.failure(Frame.ErrorReport(code: .badRequest, message: "after \(pull.after) is beyond the newest seq \(info.newestSeq)")))
        }
        if UInt64(pull.after) + 1 < UInt64(info.firstAvailable.rawValue) { return completion(.success(truncated)) }
        let limit = min(limit, store.options.readLimitMax)
        guard limit > 0, pull.after < info.newestSeq.rawValue else {
            let answer = Frame.PullOK(newestSeq: info.newestSeq.rawValue, epoch: epoch, hasMore: pull.after < info.newestSeq.rawValue, records: [])
            return completion(.success(.pullOK(answer)))
        }
        do {
            completion(.success(try pullAnswer(user: user, after: Seq(pull.after), limit: limit, frameLengthMax: frameLengthMax)))
        } catch {
            log.error("pull_failed", "user=\(user) after=\(pull.after) error=\"\(error)\"")
            completion(.failure(Frame.ErrorReport(code: .internal, message: "read failed")))
        }
    }

    /// PULL_OK (or TRUNCATED, if retention raced ahead) for up to `limit` records after `after`.
    private func pullAnswer(user: UserID, after: Seq, limit: Int, frameLengthMax: Int) throws(StoreError) -> Frame {
        let bodyBudget = frameLengthMax - ProtocolConstants.frameLengthMin - ProtocolConstants.pullOKFixedSize
        // The store bounds payload bytes; the per-record fields come out of the same budget.
        let payloadBudget = max(1, bodyBudget - limit * ProtocolConstants.pullRecordFixedSize)
        var records: [PullRecord] = []
        var used = 0
        var cut = false
        var undecodable = false
        var cursor = after
        var summary: VisitSummary
        var skips = 0
        repeat {
            summary = try store.visit(user: user, after: cursor, limit: limit - records.count, maxBytes: payloadBudget - used) { view in
                let size = ProtocolConstants.pullRecordFixedSize + Int(view.header.rawLength)
                guard !cut, records.isEmpty || used + size <= bodyBudget else {
                    cut = true
                    return
                }
                guard let body = view.payload() else {
                    // A record that verified but does not decompress: stop before it.
                    undecodable = true
                    cut = true
                    return
                }
                used += size
                let header = view.header
                records.append(PullRecord(seq: header.seq.rawValue, outgoing: header.isOutgoing, peer: header.sender.rawValue,
                                          senderDevice: header.device.rawValue, clientMessageID: header.clientMessageID.rawValue,
                                          timestampMs: header.timestampMs, body: body))
            }
            guard case .lost(let first, let last) = summary.status else { break }
            // Explicit loss, acknowledged by an epoch change: step over it (PROTOCOL.md §11).
            log.warning("pull_skipped_lost", "user=\(user) first=\(first) last=\(last)")
            cursor = last
            skips += 1
        } while !cut && records.count < limit && skips < EmbeddedMailboxBackend.lostRangesSkippedMax && used < payloadBudget
        if undecodable && records.isEmpty {
            throw .corruptFile(path: store.directory, reason: "user \(user): the record after seq \(cursor) does not decompress")
        }
        let epoch = WireValues.epoch(summary.epoch)
        if case .truncated(let firstAvailable) = summary.status, records.isEmpty {
            return .truncated(Frame.Truncated(firstSeq: firstAvailable.rawValue, newestSeq: summary.newestSeq.rawValue, epoch: epoch))
        }
        let lastSeq = records.last?.seq ?? cursor.rawValue
        return .pullOK(Frame.PullOK(newestSeq: summary.newestSeq.rawValue, epoch: epoch,
                                    hasMore: lastSeq < summary.newestSeq.rawValue, records: records))
    }
}
