import SeqboxFormat
import SeqboxStore

/// Verifies a whole store directory in one pass over the log (fsck without `--repair`):
/// segment headers, every record's checksum, the segment chain, per-mailbox seq contiguity,
/// index files and checkpoints against the log, cursors and the dedup window. Reads only.
struct StoreVerifier {
    let directory: String
    let fileSystem: any FileSystem
    let progress: (Int64) -> ProgressMeter

    func run() throws(UnusableInput) -> Verification {
        let started = monotonicNanoseconds()
        let files = try StoreFiles.load(directory: directory, fileSystem: fileSystem)
        var result = Verification(files: files)
        var opened: [SegmentFile] = []
        for base in files.segments {
            opened.append(try SegmentFile.open(path: files.segmentPath(base), base: base, fileSystem: fileSystem))
        }
        let present = selectReadableSegments(opened, result: &result)
        let checkpoints = loadCheckpoints(files, result: &result)
        var checker = LogChecker(segments: present, checkpoints: checkpoints)
        let meter = progress(present.reduce(0) { $0 + Int64($1.size) })
        let durablePosition = checkpoints.map(\.position.rawValue).max() ?? 0
        for (position, file) in present.enumerated() {
            let next = position + 1 < present.count ? present[position + 1] : nil
            var state = walk(file, next: next, durablePosition: durablePosition, checker: &checker, result: &result)
            report(&state, next: next, checker: &checker, result: &result)
            result.segments.append(state)
            meter.advance(Int64(file.size))
        }
        meter.finish()
        findGapsBeforeFirst(opened, present: present, result: &result)
        noteStrayIndexes(files, present: present, result: &result)
        result.lost = checker.finish(logEnd: result.logEnd)
        result.acknowledgedLost = checker.acknowledged
        result.badIndexes.formUnion(checker.mismatchedIndexes)
        result.badCheckpoints.formUnion(checker.mismatchedCheckpoints)
        result.problems.merge(checker.problems)
        result.totals = checker.totals
        result.totals.segments = present.count
        result.totals.logBytes = result.segments.reduce(0) { $0 + Int64($1.walk.dataEnd) }
        for name in files.temporaries { result.notes.append("\(name): leftover of an interrupted write (the store deletes it at open)") }
        for name in files.unknown { result.notes.append("\(name): not a store file (left alone)") }
        RepairJournal.noteIncomplete(in: directory, fileSystem: fileSystem, result: &result)
        result.seconds = Double(monotonicNanoseconds() - started) / 1e9
        return result
    }

    /// Drops segment files nothing can be read from: an empty or all-zero last segment (a
    /// crash during a roll; recovery deletes it too) and files shorter than a header.
    private func selectReadableSegments(_ opened: [SegmentFile], result: inout Verification) -> [SegmentFile] {
        var present: [SegmentFile] = []
        for (position, file) in opened.enumerated() {
            let isLast = position == opened.count - 1
            if file.headerProblem != nil && isLast && file.isAllZero {
                result.problems.add(Problem(.tornTail, file: file.name, "the last segment is empty (created at a roll, the crash came before its header was written)"))
                result.unusableSegments.append(file.base)
                continue
            }
            if file.size < FormatConstants.segmentHeaderSize {
                result.problems.add(Problem(.segmentHeader, file: file.name, "\(file.headerProblem ?? "too short"): nothing in it can be read"))
                result.unusableSegments.append(file.base)
                continue
            }
            if let problem = file.headerProblem {
                result.problems.add(Problem(.segmentHeader, file: file.name, offset: 0, problem))
            }
            present.append(file)
        }
        return present
    }

    private func loadCheckpoints(_ files: StoreFiles, result: inout Verification) -> [CheckpointImage] {
        var images: [CheckpointImage] = []
        for position in files.checkpoints {
            switch CheckpointImage.load(files, position: position, fileSystem: fileSystem) {
            case .success(let image):
                images.append(image)
                result.validCheckpoints.append(position)
            case .failure(let error):
                result.problems.add(Problem(.checkpointInvalid, file: FileNames.checkpoint(position), error.detail))
                result.badCheckpoints.insert(position)
            }
        }
        return images
    }

    private func loadIndex(_ file: SegmentFile, files: StoreFiles, result: inout Verification) -> IndexView? {
        let name = FileNames.index(file.base)
        guard files.indexes.contains(file.base) else {
            result.problems.add(Problem(.indexMissing, file: name, "sealed segment \(file.name) has no index file"))
            return nil
        }
        switch IndexView.open(files.indexPath(file.base), fileSystem: fileSystem) {
        case .success(let index) where index.summary.basePosition == file.base:
            return index
        case .success(let index):
            result.problems.add(Problem(.indexInvalid, file: name, "its base \(index.summary.basePosition) differs from its name"))
        case .failure(let error):
            result.problems.add(Problem(.indexInvalid, file: name, error.detail))
        }
        result.badIndexes.insert(file.base)
        return nil
    }

    /// Walks one segment; `durablePosition` is the newest valid checkpoint's position (every
    /// byte of the log before it was synced).
    private func walk(_ file: SegmentFile, next: SegmentFile?, durablePosition: UInt64, checker: inout LogChecker,
                      result: inout Verification) -> SegmentState {
        let walker = SegmentWalker(bytes: file.bytes, base: file.base)
        guard let next else {
            checker.beginSegment(file, index: nil)
            let durableEnd = durablePosition > file.base.rawValue ? Int(clamping: durablePosition - file.base.rawValue) : 0
            let walk = walker.walkActive(durableEnd: durableEnd, visitor: &checker)
            checker.endSegment(dataEnd: walk.dataEnd)
            return SegmentState(file: file, isActive: true, expectedEnd: nil, walk: walk)
        }
        let index = loadIndex(file, files: result.files, result: &result)
        let expectedEnd = next.base > file.base ? Int(clamping: next.base.rawValue - file.base.rawValue) : nil
        checker.beginSegment(file, index: index)
        let walk = walker.walkSealed(expectedEnd: expectedEnd, visitor: &checker)
        checker.endSegment(dataEnd: walk.dataEnd)
        return SegmentState(file: file, isActive: false, expectedEnd: expectedEnd, walk: walk)
    }

    /// Turns one segment's walk into problems and repair facts.
    private func report(_ state: inout SegmentState, next: SegmentFile?, checker: inout LogChecker, result: inout Verification) {
        let file = state.file
        let walk = state.walk
        result.bytesScanned += Int64(walk.dataEnd)
        for region in walk.corrupt {
            let resume = region.end < walk.dataEnd || (state.expectedEnd.map { region.end < $0 } ?? false) ? "; records resume at \(region.end)" : ""
            let durable = state.isActive ? " in durable data of the active segment (a checkpoint was written after it), so not an interrupted write" : ""
            result.problems.add(Problem(.corruptRecord, file: file.name, offset: region.start,
                                        "\(region.length) bytes do not verify (\(region.problem))\(resume)\(durable)"))
        }
        if let trailing = walk.trailing {
            result.problems.add(Problem(.trailingData, file: file.name, offset: trailing.start,
                                        "\(trailing.length) nonzero bytes beyond the segment's extent \(trailing.start)"))
            if walk.overlappingRecords > 0 {
                let text = "\(file.name): \(walk.overlappingRecords) valid records beyond its extent overlap the next segment"
                result.problems.add(Problem(.segmentOverlap, file: file.name, offset: trailing.start, text))
                result.unrepairable.append(text)
            }
        }
        if let torn = walk.torn {
            result.bytesScanned += Int64(torn.end - torn.offset)
            var detail = "interrupted write: \(torn.end - torn.offset) bytes from offset \(torn.offset) (\(torn.problem))"
            if !torn.recordsAfter.isEmpty {
                let named = torn.recordsAfter.prefix(LogChecker.examplesMax).map { "\($0.type) user \($0.user) seq \($0.seq)" }
                detail += "; \(torn.recordsAfter.count) complete records after it are dropped with it (" + named.joined(separator: ", ") +
                    (torn.recordsAfter.count > named.count ? ", …" : "") + ")"
            }
            result.problems.add(Problem(.tornTail, file: file.name, offset: torn.offset, detail))
            checker.markDamaged(from: file.base.rawValue + UInt64(torn.offset), to: file.base.rawValue + UInt64(torn.end))
        }
        guard let next else { return }
        let end = file.base.rawValue + UInt64(walk.dataEnd)
        if next.base.rawValue > end {
            let gap = LogGap(start: end, end: next.base.rawValue)
            result.gaps.append(gap)
            result.problems.add(Problem(.missingSegment, file: file.name,
                                        "no file holds log bytes \(gap.start)..<\(gap.end) (\(gap.length) bytes) between \(file.name) and \(next.name)"))
        } else if next.base.rawValue < end {
            let text = "\(next.name) starts at \(next.base), inside \(file.name), whose records end at \(end)"
            result.problems.add(Problem(.segmentOverlap, file: next.name, text))
            result.unrepairable.append(text)
        }
    }

    /// Unreadable segment files before the first readable one leave a gap at the log's start.
    private func findGapsBeforeFirst(_ opened: [SegmentFile], present: [SegmentFile], result: inout Verification) {
        guard let first = present.first, let unusable = opened.first, unusable.base < first.base else { return }
        let gap = LogGap(start: unusable.base.rawValue, end: first.base.rawValue)
        result.gaps.insert(gap, at: 0)
        result.problems.add(Problem(.missingSegment, file: unusable.name, "no readable file holds log bytes \(gap.start)..<\(gap.end)"))
    }

    private func noteStrayIndexes(_ files: StoreFiles, present: [SegmentFile], result: inout Verification) {
        let bases = Set(present.map(\.base))
        for base in files.indexes.sorted() where !bases.contains(base) {
            result.notes.append("\(FileNames.index(base)): index of a segment that does not exist (removed by --repair)")
            result.badIndexes.insert(base)
        }
        if let active = present.last, files.indexes.contains(active.base) {
            result.notes.append("\(FileNames.index(active.base)): index of the active segment, left from a roll; the store ignores it")
        }
    }
}
