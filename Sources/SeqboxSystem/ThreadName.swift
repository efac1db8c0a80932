import CSeqboxShim

/// Names the calling thread (pthread_setname_np(3)), so top, perf and /proc show which of the
/// process's threads is which: an event loop, the store's writer, a storage client.
public enum ThreadName {
    /// Linux keeps at most this many bytes of a thread name.
    public static let bytesMax = 15

    /// Sets the calling thread's name; longer names are cut to `bytesMax` bytes. Best effort:
    /// a name is a diagnostic aid, so a failure is ignored.
    public static func set(_ name: String) {
        _ = shim_set_thread_name(name)
    }
}
