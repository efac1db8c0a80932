/// The proxy's settings, from the command line. Every fault has a rate and a size, and all
/// random choices come from `seed`, so a run's fault plan per connection is reproducible.
struct ProxyOptions {
    /// Loopback address and port to listen on (port 0: any free port, printed at start).
    var listenHost = "127.0.0.1"
    var listenPort: UInt16 = 0
    /// The server behind the proxy (loopback).
    var upstreamHost = "127.0.0.1"
    var upstreamPort: UInt16 = 0
    var seed: UInt64 = 1
    /// The proxy exits by itself after this long.
    var durationSeconds: UInt64 = 300
    /// Added to every chunk, each way: latency + uniform(0, jitter).
    var latencyMs: UInt64 = 0
    var jitterMs: UInt64 = 0
    /// Fraction of connections capped at `bandwidthBytesPerSecond` each way.
    var bandwidthRate = 0.0
    var bandwidthBytesPerSecond: UInt64 = 64 << 10
    /// Probability per forwarded chunk that its direction stalls for uniform(0, stallMsMax).
    var stallRate = 0.0
    var stallMsMax: UInt64 = 1_000
    /// Fraction of connections reset (RST) partway, cutting a frame.
    var dropRate = 0.0
    /// Fraction of connections black-holed partway: no more data either way, no FIN, no RST.
    var blackholeRate = 0.0
    /// A doomed connection meets its fault after uniform(0, this) bytes forwarded…
    var faultAfterBytesMax: UInt64 = 16 << 10
    /// …or after uniform(0, this) milliseconds, whichever comes first.
    var faultAfterMsMax: UInt64 = 5_000
    /// Write the listening port to this file once listening (for scripts).
    var portFile: String?

    /// Longest run allowed: the proxy is a test tool, never a service.
    static let durationSecondsMax: UInt64 = 3_600

    static let usage = """
    usage: chaos-proxy --upstream HOST:PORT [options]

    A TCP proxy that injects network faults between Seqbox clients and a server. Loopback only;
    exits by itself after --duration-s (or at SIGTERM). Prints "listening on HOST:PORT" when ready
    and a fault summary at exit.

      --listen HOST:PORT          loopback address to listen on (default 127.0.0.1:0, any port)
      --upstream HOST:PORT        the server (loopback), required
      --seed N                    seed of every random choice (default 1)
      --duration-s S              stop after S seconds (default 300, at most 3600)
      --latency-ms MS             delay added to every chunk, each way (default 0)
      --jitter-ms MS              plus uniform(0, MS) (default 0)
      --bandwidth-rate P          fraction of connections with a bandwidth cap (default 0)
      --bandwidth-bps B           the cap, bytes per second each way (default 65536)
      --stall-rate P              chance per chunk that its direction stalls (default 0)
      --stall-ms-max MS           a stall lasts uniform(0, MS) (default 1000)
      --drop-rate P               fraction of connections reset (RST) mid-stream (default 0)
      --blackhole-rate P          fraction of connections silently black-holed (default 0)
      --fault-after-bytes-max N   a doomed connection fails within N bytes (default 16384)
      --fault-after-ms-max MS     or within MS milliseconds (default 5000)
      --port-file PATH            write the listening port to PATH
      --help                      this text
    """

    /// Parses `arguments` (without the program name). Throws a message for the user.
    static func parse(_ arguments: [String]) throws(UsageError) -> ProxyOptions {
        var options = ProxyOptions()
        var sawUpstream = false
        var index = 0
        func value() throws(UsageError) -> String {
            guard index + 1 < arguments.count else { throw UsageError("\(arguments[index]) needs a value") }
            index += 1
            return arguments[index]
        }
        while index < arguments.count {
            let name = arguments[index]
            switch name {
            case "--help", "-h": throw UsageError(nil)
            case "--listen": (options.listenHost, options.listenPort) = try endpoint(try value(), name)
            case "--upstream":
                (options.upstreamHost, options.upstreamPort) = try endpoint(try value(), name)
                sawUpstream = true
            case "--seed": options.seed = try number(try value(), name)
            case "--duration-s": options.durationSeconds = try number(try value(), name)
            case "--latency-ms": options.latencyMs = try number(try value(), name)
            case "--jitter-ms": options.jitterMs = try number(try value(), name)
            case "--bandwidth-rate": options.bandwidthRate = try rate(try value(), name)
            case "--bandwidth-bps": options.bandwidthBytesPerSecond = max(1, try number(try value(), name))
            case "--stall-rate": options.stallRate = try rate(try value(), name)
            case "--stall-ms-max": options.stallMsMax = try number(try value(), name)
            case "--drop-rate": options.dropRate = try rate(try value(), name)
            case "--blackhole-rate": options.blackholeRate = try rate(try value(), name)
            case "--fault-after-bytes-max": options.faultAfterBytesMax = try number(try value(), name)
            case "--fault-after-ms-max": options.faultAfterMsMax = try number(try value(), name)
            case "--port-file": options.portFile = try value()
            default: throw UsageError("unknown option \(name)")
            }
            index += 1
        }
        guard sawUpstream else { throw UsageError("--upstream is required") }
        guard options.durationSeconds >= 1, options.durationSeconds <= durationSecondsMax else {
            throw UsageError("--duration-s must be within 1...\(durationSecondsMax)")
        }
        guard options.dropRate + options.blackholeRate <= 1 else { throw UsageError("--drop-rate + --blackhole-rate must be at most 1") }
        return options
    }

    private static func endpoint(_ text: String, _ name: String) throws(UsageError) -> (String, UInt16) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw UsageError("\(name) wants HOST:PORT, got \(text)")
        }
        let host = String(text[..<colon])
        guard host == "localhost" || host.hasPrefix("127.") else { throw UsageError("\(name) must be a loopback address, got \(host)") }
        return (host == "localhost" ? "127.0.0.1" : host, port)
    }

    private static func number(_ text: String, _ name: String) throws(UsageError) -> UInt64 {
        guard let value = UInt64(text) else { throw UsageError("\(name) wants a non-negative integer, got \(text)") }
        return value
    }

    private static func rate(_ text: String, _ name: String) throws(UsageError) -> Double {
        guard let value = Double(text), value >= 0, value <= 1 else { throw UsageError("\(name) wants a rate within 0...1, got \(text)") }
        return value
    }
}

/// A command-line mistake (nil message: print the usage and exit successfully).
struct UsageError: Error {
    let message: String?
    init(_ message: String?) { self.message = message }
}
