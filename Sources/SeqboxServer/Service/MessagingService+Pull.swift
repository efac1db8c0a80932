import SeqboxFormat
import SeqboxProtocol
import SeqboxStore

extension MessagingService {
    /// Most lost ranges (corruption opened with loss) one PULL steps over before answering.
    static let lostRangesSkippedMax = 16

    /// PULL (PROTOCOL.md §5.7–5.9, §11), answered on the loop thread from the mapped log:
    /// an old epoch or a range below the first retained seq gets TRUNCATED; `after` beyond the
    /// newest seq is `badRequest`; otherwise PULL_OK with contiguous records from `after + 1`,
    /// as many as the clamped limit and the frame size allow.
    func handlePull(_ pull: Frame.Pull, requestID: UInt32, session: Session, as identity: SessionIdentity) {
        counters.pulls.add(1, ordering: .relaxed)
        let user = identity.user
        let info = store.mailboxInfo(user: user)
        let epoch = WireValues.epoch(info.epoch)
        let truncated = Frame.truncated(Frame.Truncated(firstSeq: info.firstAvailable.rawValue, newestSeq: info.newestSeq.rawValue, epoch: epoch))
        if pull.epoch != 0 && pull.epoch != epoch {
            session.connection.send(truncated, requestID: requestID)
            return
        }
        guard pull.after <= info.newestSeq.rawValue else {
            refuse(session, requestID: requestID, Frame.ErrorReport(code: .badRequest, message: "after \(pull.after) is beyond the newest seq \(info.newestSeq)"))
            return
        }
        if UInt64(pull.after) + 1 < UInt64(info.firstAvailable.rawValue) {
            session.connection.send(truncated, requestID: requestID)
            return
        }
        let limit = min(Int(pull.limit), configuration.pullLimitMax, store.options.readLimitMax)
        guard limit > 0, pull.after < info.newestSeq.rawValue else {
            let answer = Frame.PullOK(newestSeq: info.newestSeq.rawValue, epoch: epoch, hasMore: pull.after < info.newestSeq.rawValue, records: [])
            session.connection.send(.pullOK(answer), requestID: requestID)
            return
        }
        do {
            session.connection.send(try pullAnswer(user: user, after: Seq(pull.after), limit: limit), requestID: requestID)
        } catch {
            log.error("pull_failed", "user=\(user) after=\(pull.after) error=\"\(error)\"")
            refuse(session, requestID: requestID, Frame.ErrorReport(code: .internal, message: "read failed"))
        }
    }

    /// PULL_OK (or TRUNCATED, if retention raced ahead) for up to `limit` records after `after`.
    private func pullAnswer(user: UserID, after: Seq, limit: Int) throws(StoreError) -> Frame {
        let bodyBudget = configuration.pullFrameLengthMax - ProtocolConstants.frameLengthMin - ProtocolConstants.pullOKFixedSize
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
        } while !cut && records.count < limit && skips < MessagingService.lostRangesSkippedMax && used < payloadBudget
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
