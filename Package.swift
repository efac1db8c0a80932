// swift-tools-version:6.0
// Seqbox: a real-time, lossless messaging backend with its own per-user mailbox store.
import PackageDescription

let package = Package(
    name: "Seqbox",
    products: [
        .library(name: "SeqboxStore", targets: ["SeqboxStore"]),
        .executable(name: "seqboxd", targets: ["seqboxd"]),
        .executable(name: "seqbox-fsck", targets: ["seqbox-fsck"]),
        .executable(name: "seqbox-dump", targets: ["seqbox-dump"]),
        .executable(name: "seqbox-bench", targets: ["seqbox-bench"]),
        .executable(name: "seqbox-stress", targets: ["seqbox-stress"]),
        .executable(name: "seqbox", targets: ["seqbox"]),
        .executable(name: "chaos-proxy", targets: ["chaos-proxy"]),
    ],
    targets: [
        // System C libraries, found with pkg-config.
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // Linux calls Glibc lacks here (fallocate, epoll, eventfd, accept4).
        .target(name: "CSeqboxShim"),

        // The thin typed syscall layer: file descriptors, errno, files, mmap, flock.
        .target(name: "SeqboxSystem", dependencies: ["CSeqboxShim"]),
        // The on-disk format, pure: constants, identifiers, records, checksums, compression.
        .target(name: "SeqboxFormat", dependencies: ["CLZ4", "CXXHash"]),
        // The client/server wire protocol, pure: frames, codec, limits (PROTOCOL.md).
        .target(name: "SeqboxProtocol"),
        // The per-user mailbox store engine.
        .target(name: "SeqboxStore", dependencies: ["SeqboxFormat", "SeqboxSystem"]),
        // The messaging server: event loops, access, login, send, push and receive paths.
        .target(name: "SeqboxServer", dependencies: ["SeqboxStore", "SeqboxProtocol", "SeqboxSystem", "CSeqboxShim", "CCrypto"]),
        // The client library an app embeds: connect, login, send with retries, sync, exactly-once delivery.
        .target(name: "SeqboxClient", dependencies: ["SeqboxProtocol", "CSeqboxShim"]),
        // Shared code of the offline tools (argument parsing, output).
        .target(name: "SeqboxTooling", dependencies: ["SeqboxStore"], path: "Tools/SeqboxTooling"),

        .executableTarget(name: "seqboxd", dependencies: ["SeqboxServer", "SeqboxStore"]),
        .executableTarget(name: "seqbox", dependencies: ["SeqboxClient"]),
        .executableTarget(name: "chaos-proxy", dependencies: ["CSeqboxShim"], path: "Tools/chaos-proxy"),
        .executableTarget(name: "seqbox-fsck", dependencies: ["SeqboxTooling"], path: "Tools/seqbox-fsck"),
        .executableTarget(name: "seqbox-dump", dependencies: ["SeqboxTooling"], path: "Tools/seqbox-dump"),
        .executableTarget(name: "seqbox-bench", dependencies: ["SeqboxStore", "SeqboxProtocol", "SeqboxSystem", "SeqboxServer", "CSeqboxShim", "CSQLite"], path: "Benchmarks/seqbox-bench"),
        // Appends to a store in `sync` mode and reports every acknowledged seq: the child
        // process of the kill -9 crash tests, and a quick load generator.
        .executableTarget(name: "seqbox-stress", dependencies: ["SeqboxStore"], path: "Tools/seqbox-stress"),

        .testTarget(name: "SeqboxFormatTests", dependencies: ["SeqboxFormat"]),
        .testTarget(name: "SeqboxStoreTests", dependencies: ["SeqboxStore"]),
        .testTarget(name: "SeqboxProtocolTests", dependencies: ["SeqboxProtocol"]),
        .testTarget(name: "SeqboxFaultTests", dependencies: ["SeqboxStore"]),
        .testTarget(name: "SeqboxToolsTests", dependencies: ["SeqboxTooling", "SeqboxStore"]),
        .testTarget(name: "SeqboxBenchTests", dependencies: []),
        .testTarget(name: "SeqboxClientTests", dependencies: ["SeqboxClient", "SeqboxProtocol"]),
        .testTarget(name: "SeqboxServerTests", dependencies: ["SeqboxServer", "SeqboxProtocol", "SeqboxStore"]),
    ]
)
