import SeqboxFormat
import SeqboxStore

/// What `--repair` did, and how the store verified afterwards.
struct RepairOutcome {
    var actions: [String] = []
    var backupFolder: String?
    /// Epoch changes written: user, new epoch, lost range.
    var epochChanges: [(user: UserID, epoch: Epoch, range: RecoveryReport.LostRange)] = []
    /// Why the repair stopped (nil when it ran to the end).
    var failure: String?
    /// The verification of the repaired store (nil when the repair stopped early).
    var after: Verification?

    var succeeded: Bool { failure == nil && (after?.isClean ?? false) }

    func textReport() -> String {
        var text = "repair:\n"
        if actions.isEmpty && epochChanges.isEmpty { text += "  nothing to change in the files\n" }
        for action in actions { text += "  \(action)\n" }
        for change in epochChanges {
            text += "  user \(change.user): epoch \(change.epoch), \(LogChecker.seqText(change.range)) recorded as lost\n"
        }
        if let backupFolder { text += "  backup of the original files: \(backupFolder)\n" }
        if let failure { text += "  stopped: \(failure)\n" }
        if let after {
            text += after.isClean ? "  verified after repair: clean\n" :
                "  verified after repair: \(after.problems.total) problems remain\n" + after.problems.listed.map { "    \($0)\n" }.joined()
        }
        return text
    }

    var json: String {
        var json = JSONWriter()
        json.add("succeeded", succeeded)
        json.addRaw("actions", JSONWriter.array(actions.map(JSONWriter.quoted)))
        if let backupFolder { json.add("backupFolder", backupFolder) } else { json.addNull("backupFolder") }
        json.addRaw("epochChanges", JSONWriter.array(epochChanges.map { change in
            var item = JSONWriter()
            item.add("user", change.user.rawValue)
            item.add("epoch", change.epoch.rawValue)
            item.add("first", change.range.first.rawValue)
            item.add("last", change.range.last.rawValue)
            return item.result
        }))
        if let failure { json.add("failure", failure) } else { json.addNull("failure") }
        if let after {
            json.add("cleanAfter", after.isClean)
            json.addRaw("problemsAfter", JSONWriter.array(after.problems.listed.map(\.json)))
        }
        return json.result
    }
}
