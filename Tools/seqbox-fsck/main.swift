import SeqboxTooling

#if canImport(Glibc)
import Glibc
#endif

// seqbox-fsck: offline verification and repair of a Seqbox store (see `--help`).
exit(Fsck.run(arguments: Array(CommandLine.arguments.dropFirst()), output: StandardStreams()))
