#if canImport(Glibc)
import Glibc
#endif

/// One non-blocking client socket of a load thread: a pair's sender or its recipient, with
/// its unparsed input, its unsent output, and (senders) its unanswered sends.
final class LoadConnection {
    enum Role { case sender, recipient }

    let fd: Int32
    /// The pair's index within its load thread.
    let pair: Int
    let role: Role
    /// Bytes of a reply not yet whole (usually empty: replies are parsed straight from the
    /// thread's read buffer).
    let input = ByteBuffer(capacity: 64)
    let output = ByteBuffer(capacity: 256)
    var window = SendWindow()
    /// Queued for a flush at the end of this turn of the loop.
    var flushQueued = false
    /// Registered for writability: the kernel's send buffer was full.
    var waitingForWritable = false

    init(fd: Int32, pair: Int, role: Role) {
        self.fd = fd
        self.pair = pair
        self.role = role
    }

    /// close(2) with SO_LINGER 0 (a reset): thousands of benchmark sockets must not sit in
    /// TIME_WAIT holding ephemeral ports for the next engine's connections.
    static func closeResetting(_ fd: Int32) {
        var value = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
        close(fd)
    }
}

/// One engine's client behaviour inside a load thread: how a send is written and what the
/// replies mean. Holds the per-pair protocol state (Seqbox: seqs and pulls; Redis: stream ids).
protocol LoadClient: AnyObject, SendableMetatype {
    /// Appends the send of a message scheduled at `scheduled` (its identity: unique and
    /// increasing per sender) with request index `requestIndex` on pair `pair`'s sender.
    func appendSend(pair: Int, requestIndex: UInt64, scheduled: UInt64, payload: UnsafeRawBufferPointer, into output: ByteBuffer)

    /// Parses the whole replies at the start of `bytes`, received on `connection` at `now`;
    /// records what they mean and may append requests to `connection.output`. Returns the
    /// bytes consumed (the rest is a partial reply). Throws when the connection is unusable.
    func receive(_ bytes: UnsafeRawBufferPointer, on connection: LoadConnection, now: UInt64, recorder: LoadRecorder) throws -> Int

    /// Appends what a recipient sends before any load (Redis: its first blocking XREAD).
    func startRecipient(pair: Int, into output: ByteBuffer)
}
