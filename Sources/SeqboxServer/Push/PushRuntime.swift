/// The offline push machinery of a running server, built from `PushOptions`: the gateway the
/// push path hands tips to, started at launch and stopped at shutdown.
public final class PushRuntime: Sendable {
    public let gateway: any OfflinePushGateway

    init(gateway: any OfflinePushGateway) {
        self.gateway = gateway
    }

    /// Builds and starts the push machinery; throws what stops the server from starting.
    public static func start(options: PushOptions, dataDirectory: String, log: ServerLog) throws -> PushRuntime {
        PushRuntime(gateway: LoggingOfflinePush(log: log))
    }

    /// Stops delivering; pending tips stay where they are kept.
    public func stop() {}
}
