#if canImport(Glibc)
import Glibc
#endif

// seqbox-stress: appends to a store in `sync` mode and prints every acknowledged seq (the child
// process of the kill -9 crash tests, and a quick load generator), and verifies such a store.
// All work happens in `StressTool`: top-level code is main-actor isolated and slow in loops.
exit(StressTool.run(Array(CommandLine.arguments.dropFirst())))
