import SeqboxClient
import SeqboxProtocol

/// Builds the library client for a command from the shared options.
enum ClientFactory {
    /// A configuration for the user, device and server of `options`.
    static func configuration(_ options: CLIOptions, syncsMailbox: Bool) throws(CLIError) -> ClientConfiguration {
        let identity = try options.identity()
        var configuration = ClientConfiguration(host: options.host, port: options.port, user: identity.user,
                                                device: options.device, token: identity.token)
        configuration.fullHistory = options.fullHistory
        configuration.syncsMailbox = syncsMailbox
        // An interactive tool: give up on a dead server sooner than the protocol's defaults.
        configuration.reconnectBackoffMaxMs = 5_000
        return configuration
    }

    /// A client with the state file of `options`: for commands that sync and send.
    static func syncingClient(_ options: CLIOptions, onEvent: @escaping @Sendable (ClientEvent) -> Void) throws(CLIError) -> MailboxClient {
        let configuration = try configuration(options, syncsMailbox: true)
        let path = try options.identity().statePath
        do {
            return try MailboxClient(configuration: configuration, stateFile: path, onEvent: onEvent)
        } catch {
            throw CLIError.failed(error.description)
        }
    }

    /// A client that neither syncs nor sends and keeps no state: for block, unblock, history.
    static func requestClient(_ options: CLIOptions, onEvent: @escaping @Sendable (ClientEvent) -> Void) throws(CLIError) -> MailboxClient {
        let configuration = try configuration(options, syncsMailbox: false)
        do {
            return try MailboxClient(configuration: configuration, stateStore: InMemoryStateStore(), onEvent: onEvent)
        } catch {
            throw CLIError.failed(error.description)
        }
    }

    static func start(_ client: MailboxClient) throws(CLIError) {
        do { try client.start() } catch { throw CLIError.failed(error.description) }
    }
}
