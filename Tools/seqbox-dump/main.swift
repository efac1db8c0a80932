import SeqboxTooling

#if canImport(Glibc)
import Glibc
#endif

// seqbox-dump: read-only inspection of a Seqbox store (see `--help`).
exit(Dump.run(arguments: Array(CommandLine.arguments.dropFirst()), output: StandardStreams()))
