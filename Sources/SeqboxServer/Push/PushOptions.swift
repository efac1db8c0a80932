/// The offline push settings of `seqboxd serve` (flags and environment variables).
public struct PushOptions: Sendable {
    public init() {}
}

extension ServerOptions {
    /// The offline push options, listed in `--help` after the core ones.
    static let pushOptions: [Option] = []
}
