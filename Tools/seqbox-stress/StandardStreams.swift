#if canImport(Glibc)
import Glibc
#endif

/// Unbuffered output: each line goes out in one write(2), so lines from several threads never
/// interleave and a line printed is a line the reader gets, even if the process is killed next.
enum StandardStreams {
    static func writeLine(_ text: String, to descriptor: Int32 = STDOUT_FILENO) {
        var line = text
        line.append("\n")
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    static func error(_ text: String) {
        writeLine("seqbox-stress: \(text)", to: STDERR_FILENO)
    }
}
