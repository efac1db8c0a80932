#if canImport(Glibc)
import Glibc
#endif
import SeqboxStore

/// `seqbox-stress`: parses the command line and runs `append` or `verify`.
enum StressTool {
    /// The process exit codes.
    enum ExitCode {
        static let success: Int32 = 0
        static let failure: Int32 = 1
        static let usage: Int32 = 2
    }

    static func run(_ arguments: [String]) -> Int32 {
        let options: StressOptions
        do {
            options = try StressOptions.parse(arguments)
        } catch {
            StandardStreams.error("\(error)")
            StandardStreams.error("try 'seqbox-stress --help'")
            return ExitCode.usage
        }
        if options.wantsHelp {
            StandardStreams.writeLine(StressOptions.usage)
            return ExitCode.success
        }
        switch options.command {
        case .append: return runAppend(options)
        case .verify: return runVerify(options)
        }
    }

    static func openStore(_ options: StressOptions) -> MailboxStore? {
        var storeOptions = StoreOptions()
        storeOptions.durability = .sync
        if let segmentBytes = options.segmentBytes { storeOptions.segmentBytes = segmentBytes }
        do {
            let store = try MailboxStore.open(directory: options.directory, options: storeOptions)
            if store.recoveryReport.tornTail != nil || !store.recoveryReport.isClean {
                StandardStreams.error(store.recoveryReport.description)
            }
            return store
        } catch {
            StandardStreams.error("cannot open the store in \(options.directory): \(error)")
            return nil
        }
    }

    static func runAppend(_ options: StressOptions) -> Int32 {
        guard let store = openStore(options) else { return ExitCode.failure }
        let runID = options.run ?? UInt64(getpid()) & StressOptions.runMax
        let failure = AppendRun(options: options, store: store, runID: runID).run()
        do {
            try store.close()
        } catch {
            StandardStreams.error("close failed: \(error)")
            return ExitCode.failure
        }
        if let failure {
            StandardStreams.error(failure)
            return ExitCode.failure
        }
        return ExitCode.success
    }

    static func runVerify(_ options: StressOptions) -> Int32 {
        var acknowledgements: [StressVerifier.Acknowledgement] = []
        if let path = options.acksFile {
            switch StressVerifier.loadAcknowledgements(path: path) {
            case .success(let loaded): acknowledgements = loaded
            case .failure(let error):
                StandardStreams.error("\(error)")
                return ExitCode.failure
            }
        }
        guard let store = openStore(options) else { return ExitCode.failure }
        defer { try? store.close() }
        var verifier = StressVerifier(store: store)
        verifier.checkMailboxes()
        verifier.checkAcknowledgements(acknowledgements)
        for problem in verifier.problems.prefix(StressVerifier.problemsShownMax) { StandardStreams.error(problem) }
        if verifier.problems.count > StressVerifier.problemsShownMax {
            StandardStreams.error("… \(verifier.problems.count - StressVerifier.problemsShownMax) more problems")
        }
        StandardStreams.writeLine("verified \(verifier.messagesChecked) messages in \(store.users().count) mailboxes, " +
                                  "\(acknowledgements.count) acknowledgements; \(verifier.problems.isEmpty ? "ok" : "\(verifier.problems.count) problems")")
        return verifier.problems.isEmpty ? ExitCode.success : ExitCode.failure
    }
}
