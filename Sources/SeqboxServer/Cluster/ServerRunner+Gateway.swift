#if canImport(Glibc)
import Glibc
#endif
import SeqboxProtocol
import SeqboxStore

extension ServerRunner {
    /// `--role gateway`: the access layer and the send, push and receive paths (the
    /// `MessagingService`) over a `RemoteMailboxBackend`, each user's mailbox on the storage node
    /// `UserSharding` picks. The data directory holds only the secret and the push state.
    /// SIGTERM/SIGINT: the `all` role's steps (refuse new writes, let writes in flight complete,
    /// GOODBYE and close, stop push), then stop the storage clients.
    static func runGateway(options: ServerOptions, environment: [String: String], signals: inout sigset_t, log: ServerLog) -> Int32 {
        let nodeList = options.cluster.storageNodes.map(\.description).joined(separator: ",")
        log.info("starting", "pid=\(getpid()) role=gateway data=\(options.dataDirectory) storage=\(nodeList) protocol_version=\(ProtocolConstants.protocolVersion)")
        guard let secret = loadSecret(options: options, environment: environment, log: log),
              let filter = makeContentFilter(options: options, log: log) else { return exitStartFailure }
        let tokens = TokenAuthority(secret: secret)
        guard let backend = startStorageClients(options: options, tokens: tokens, log: log) else { return exitStartFailure }
        var configuration = options.service
        configuration.messageBodySizeMax = min(configuration.messageBodySizeMax, ProtocolConstants.messageBodySizeMax)
        logServiceConfiguration(configuration, options: options, log: log)
        let push: PushRuntime
        do {
            push = try PushRuntime.start(options: options.push, dataDirectory: options.dataDirectory, log: log)
        } catch {
            log.error("push_failed", "error=\"\(error)\"")
            backend.stop()
            return exitStartFailure
        }
        let service = MessagingService(backend: backend, tokens: tokens, configuration: configuration,
                                       contentFilter: filter, offlinePush: push.gateway, log: log)
        let access = AccessServer(configuration: accessConfiguration(options: options, service: service.configuration, log: log), handler: service)
        guard startListening(access, options: options, log: log, fields: {
            "role=gateway event_loops=\($0.configuration.eventLoopCount) connections_max=\($0.effectiveConnectionsMax) storage_nodes=\(backend.nodes.count)"
        }) else {
            push.stop()
            backend.stop()
            return exitStartFailure
        }

        let received = waitForSignal(&signals)
        log.info("shutdown_begin", "signal=\(signalName(received)) connections=\(service.openConnectionCount) writes_in_flight=\(service.writes.count)")
        drainWrites(service.writes, options: options, log: log)
        access.stop()
        push.stop()
        backend.stop()
        log.info("storage_clients_stopped", "nodes=\(backend.nodes.count) \(StorageClientStatistics.total(backend.nodes.map(\.statistics)).logFields)")
        log.info("shutdown_complete", "\(service.report) \(access.statistics.logFields) \(push.statistics)")
        return 0
    }

    /// One started `StorageNodeClient` per `--storage` node, behind a `RemoteMailboxBackend`;
    /// logs and returns nil on failure.
    static func startStorageClients(options: ServerOptions, tokens: TokenAuthority, log: ServerLog) -> RemoteMailboxBackend? {
        var configuration = StorageClientConfiguration()
        configuration.connections = options.cluster.storageConnections
        configuration.requestTimeoutMs = options.cluster.storageTimeoutMs
        configuration.connectTimeoutMs = min(configuration.connectTimeoutMs, options.cluster.storageTimeoutMs)
        configuration.retryAfterMs = options.service.retryAfterUnavailableMs
        var clients: [StorageNodeClient] = []
        for (index, endpoint) in options.cluster.storageNodes.enumerated() {
            do {
                let client = try StorageNodeClient(endpoint: endpoint, nodeIndex: index, configuration: configuration, tokens: tokens, log: log)
                try client.start()
                clients.append(client)
            } catch {
                log.error("storage_client_failed", "node=\(endpoint) error=\"\(error)\"")
                for client in clients { client.stop() }
                return nil
            }
        }
        log.info("storage_configured", "nodes=\(clients.count) connections_per_node=\(configuration.connections) request_timeout_ms=\(configuration.requestTimeoutMs)")
        return RemoteMailboxBackend(nodes: clients)
    }
}
