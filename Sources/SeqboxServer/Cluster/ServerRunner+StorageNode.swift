#if canImport(Glibc)
import Glibc
#endif
import SeqboxProtocol
import SeqboxStore

extension ServerRunner {
    /// Requests a gateway connection may have unanswered on a storage node, unless
    /// `--requests-in-flight-max` says otherwise: gateways pipeline many users' requests on few
    /// connections.
    static let storageRequestsInFlightMax = 4_096
    /// Output bound of a gateway connection on a storage node, unless `--output-buffer-bytes`
    /// says otherwise: room for many pipelined answers (a few connections per gateway).
    static let storageOutputBufferBytesMax = 64 << 20

    /// `--role storage`: the store under the data directory, served over the storage RPC
    /// (PROTOCOL.md §14). SIGTERM/SIGINT: refuse new writes, let writes in flight complete and
    /// their answers go out, GOODBYE and close the gateway connections, close the store.
    static func runStorageNode(options: ServerOptions, environment: [String: String], signals: inout sigset_t, log: ServerLog) -> Int32 {
        log.info("starting", "pid=\(getpid()) role=storage data=\(options.dataDirectory) durability=\(options.durability) protocol_version=\(ProtocolConstants.protocolVersion)")
        guard let secret = loadSecret(options: options, environment: environment, log: log),
              let store = openStore(options: options, log: log) else { return exitStartFailure }
        var configuration = StorageNodeConfiguration()
        configuration.pullLimitMax = min(store.options.readLimitMax, ProtocolConstants.pullLimitMax)
        configuration.retryAfterMs = options.service.retryAfterUnavailableMs
        let handler = StorageNodeHandler(store: store, tokens: TokenAuthority(secret: secret), configuration: configuration, log: log)
        let access = AccessServer(configuration: storageAccessConfiguration(options: options, pullLimitMax: configuration.pullLimitMax, log: log),
                                  handler: handler)
        guard startListening(access, options: options, log: log, fields: {
            "role=storage event_loops=\($0.configuration.eventLoopCount) requests_in_flight_max=\($0.configuration.requestsInFlightMax)"
        }) else {
            try? store.close()
            return exitStartFailure
        }

        let received = waitForSignal(&signals)
        log.info("shutdown_begin", "signal=\(signalName(received)) gateways=\(handler.gatewayConnectionCount) writes_in_flight=\(handler.writes.count)")
        drainWrites(handler.writes, options: options, log: log)
        access.stop()
        let status = closeStore(store, options: options, log: log)
        let counters = handler.counters
        log.info("shutdown_complete", "storage_requests=\(counters.requests.load(ordering: .relaxed)) append_groups=\(counters.appendGroups.load(ordering: .relaxed)) refused=\(counters.refused.load(ordering: .relaxed)) \(access.statistics.logFields)")
        return status
    }

    /// The access layer of a storage node: the protocol's largest frames both ways (a
    /// STORE_APPEND carries up to `storeAppendGroupsMax` groups), many requests in flight per
    /// connection, a large output bound; the rest as the options say.
    static func storageAccessConfiguration(options: ServerOptions, pullLimitMax: Int, log: ServerLog) -> AccessConfiguration {
        var access = baseAccessConfiguration(options: options, log: log)
        access.requestsInFlightMax = options.requestsInFlightMax ?? storageRequestsInFlightMax
        access.frameLimits = .protocolMaximum
        access.sentFrameLengthMax = ProtocolConstants.frameLengthMax
        access.pullLimitMax = pullLimitMax
        access.shutdownReconnectAfterMs = options.service.shutdownReconnectAfterMs
        access.overloadedRetryAfterMs = options.service.retryAfterUnavailableMs
        access.outputBufferBytesMax = max(options.outputBufferBytesMax ?? storageOutputBufferBytesMax,
                                          ProtocolConstants.lengthFieldSize + ProtocolConstants.frameLengthMax)
        return access
    }
}
