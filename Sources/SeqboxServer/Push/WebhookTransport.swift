import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The shipped `PushTransport`: JSON POSTs to the configured webhook through URLSession
/// (FoundationNetworking, libcurl underneath), with a per-request timeout. The dispatcher bounds
/// how many run at once; the session allows as many connections to the host.
final class WebhookTransport: PushTransport, @unchecked Sendable {
    // @unchecked: URLSession and URL are thread-safe; every stored property is immutable.
    private let url: URL
    private let session: URLSession
    private let timeoutMs: Int

    init(url: URL, timeoutMs: Int, concurrency: Int) {
        self.url = url
        self.timeoutMs = timeoutMs
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Double(timeoutMs) / 1000
        configuration.timeoutIntervalForResource = Double(timeoutMs) / 1000
        configuration.httpMaximumConnectionsPerHost = max(1, concurrency)
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        let delegateQueue = OperationQueue()
        delegateQueue.name = "seqbox.push.webhook"
        delegateQueue.maxConcurrentOperationCount = 1
        session = URLSession(configuration: configuration, delegate: nil, delegateQueue: delegateQueue)
    }

    func post(_ body: [UInt8], completion: @escaping @Sendable (PushDeliveryOutcome) -> Void) {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: Double(timeoutMs) / 1000)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("seqboxd", forHTTPHeaderField: "User-Agent")
        session.dataTask(with: request) { _, response, error in
            if let status = (response as? HTTPURLResponse)?.statusCode {
                completion(PushDeliveryOutcome.classify(status: status))
            } else {
                completion(.failed(reason: WebhookTransport.describe(error)))
            }
        }.resume()
    }

    /// Checks that the webhook answers at all: a HEAD request within `timeoutMs`. Any HTTP
    /// status counts as reachable (a relay may refuse HEAD); `completion` gets nil then, else
    /// the error.
    func probe(timeoutMs: Int, completion: @escaping @Sendable (String?) -> Void) {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: Double(timeoutMs) / 1000)
        request.httpMethod = "HEAD"
        request.setValue("seqboxd", forHTTPHeaderField: "User-Agent")
        session.dataTask(with: request) { _, response, error in
            completion(response is HTTPURLResponse ? nil : WebhookTransport.describe(error))
        }.resume()
    }

    func shutDown() {
        session.invalidateAndCancel()
    }

    /// A short text for a failed request's error.
    static func describe(_ error: (any Error)?) -> String {
        guard let error else { return "no response" }
        if let urlError = error as? URLError {
            switch urlError.code {
            case .timedOut: return "timed out"
            case .cannotConnectToHost: return "connection refused"
            case .cannotFindHost, .dnsLookupFailed: return "host not found"
            case .networkConnectionLost: return "connection lost"
            case .cancelled: return "cancelled"
            default: return "url error \(urlError.code.rawValue)"
            }
        }
        return "\(error)"
    }
}
