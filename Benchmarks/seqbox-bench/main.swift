#if canImport(Glibc)
import Glibc
#endif

// Everything runs in functions: top-level code is main-actor isolated and slow in hot loops.
exit(BenchMain.run(Array(CommandLine.arguments.dropFirst())))
