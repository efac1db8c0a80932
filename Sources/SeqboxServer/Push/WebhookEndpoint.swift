import Foundation

/// The `--push-webhook` URL: checked at start, printed without secrets.
enum WebhookEndpoint {
    /// The URL, or why it cannot be used: it must parse and be `http` or `https` with a host.
    static func parse(_ text: String) -> Result<URL, WebhookEndpointError> {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else {
            return .failure(WebhookEndpointError(reason: "not a URL"))
        }
        guard scheme == "http" || scheme == "https" else {
            return .failure(WebhookEndpointError(reason: "scheme \(scheme) is not http or https"))
        }
        guard let host = url.host, !host.isEmpty else { return .failure(WebhookEndpointError(reason: "no host")) }
        return .success(url)
    }

    /// `scheme://host:port/path` of `text` for logs: no user, password or query (they may hold
    /// credentials). Unparsable text is shown by its length only.
    static func redacted(_ text: String) -> String {
        guard let components = URLComponents(string: text), let scheme = components.scheme else {
            return "<\(text.utf8.count) bytes>"
        }
        let port = components.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(components.host ?? "")\(port)\(components.path)"
    }
}

/// Why a webhook URL was refused.
struct WebhookEndpointError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
