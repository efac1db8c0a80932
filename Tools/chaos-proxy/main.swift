// chaos-proxy: a loopback TCP proxy that injects latency, jitter, bandwidth caps, stalls,
// mid-frame resets and black holes between Seqbox clients and a server, seeded, for a bounded
// time. See ProxyOptions.usage.
#if canImport(Glibc)
import Glibc
#endif

func proxyMain() -> Int32 {
    signal(SIGPIPE, SIG_IGN)
    installTerminationHandler()
    do {
        let options = try ProxyOptions.parse(Array(CommandLine.arguments.dropFirst()))
        return ProxyServer(options: options).run()
    } catch {
        if let message = error.message {
            printError("chaos-proxy: \(message)\n\n\(ProxyOptions.usage)")
            return 2
        }
        printLine(ProxyOptions.usage)
        return 0
    }
}

exit(proxyMain())
