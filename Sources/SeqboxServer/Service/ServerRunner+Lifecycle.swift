import SeqboxStore

extension ServerRunner {
    /// Starts `access` and logs `listening` with the bound address and `fields(access)`, then
    /// writes the port file. Logs and returns false when it cannot listen.
    static func startListening(_ access: AccessServer, options: ServerOptions, log: ServerLog,
                               fields: (AccessServer) -> String) -> Bool {
        do {
            try access.start()
        } catch {
            log.error("listen_failed", "address=\(options.host):\(options.port) error=\"\(error)\"")
            return false
        }
        let port = access.boundPort
        log.info("listening", "address=\(options.host):\(port) port=\(port) \(fields(access))")
        if let portFile = options.portFile, !writePortFile(portFile, port: port) {
            log.error("port_file_failed", "path=\(portFile)")
        }
        return true
    }

    /// Shutdown steps 1 and 2: refuse new writes, then wait (bounded by the shutdown timeout)
    /// for the writes in flight to complete and their answers to be queued.
    static func drainWrites(_ writes: WriteGate, options: ServerOptions, log: ServerLog) {
        writes.close()
        if !writes.waitUntilDrained(timeoutMs: options.shutdownTimeoutMs) {
            log.warning("shutdown_writes_pending", "writes_in_flight=\(writes.count) timeout_ms=\(options.shutdownTimeoutMs)")
        }
    }

    /// Closes the store (final sync and checkpoint); returns the exit status it implies.
    static func closeStore(_ store: MailboxStore, options: ServerOptions, log: ServerLog) -> Int32 {
        do {
            try store.close()
            log.info("store_closed", "directory=\(options.dataDirectory)")
            return 0
        } catch {
            log.error("store_close_failed", "error=\"\(error)\"")
            return exitStartFailure
        }
    }
}
