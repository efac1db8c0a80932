#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import SeqboxStore
import SeqboxSystem
import XCTest

final class SimulatedFileSystemTests: XCTestCase {
    // MARK: - Helpers

    /// A file system with a durable "/db" directory, as a store finds it at startup.
    private func makeFileSystem(capacityBytes: Int64? = nil) throws -> SimulatedFileSystem {
        let fileSystem = SimulatedFileSystem(capacityBytes: capacityBytes)
        try fileSystem.createDirectoryDurably("/db")
        return fileSystem
    }

    /// Creates `path`, writes `bytes`, syncs the file and its directory: fully durable.
    private func writeDurably(_ bytes: [UInt8], to path: String, in fileSystem: SimulatedFileSystem) throws {
        let file = try fileSystem.open(path, create: true)
        defer { file.close() }
        try file.write(bytes, at: 0)
        try file.sync()
        try fileSystem.syncDirectory("/db")
    }

    private func assertFails(
        with expected: Int32, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            try body()
            XCTFail("expected errno \(expected), got success", file: file, line: line)
        } catch let error as SystemError {
            XCTAssertEqual(error.errno, Errno(rawValue: expected), "\(error)", file: file, line: line)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    // MARK: - Crash model

    func testSyncedWritesSurviveACrash() throws {
        let fileSystem = try makeFileSystem()
        try writeDurably(bytes("hello"), to: "/db/log", in: fileSystem)
        for seed in UInt64(0)..<50 {
            XCTAssertEqual(fileSystem.crash(seed: seed).contents(of: "/db/log"), bytes("hello"), "seed \(seed)")
        }
    }

    func testUnsyncedWritesAreDroppedWithoutTearing() throws {
        let fileSystem = try makeFileSystem()
        try writeDurably(bytes("abc"), to: "/db/log", in: fileSystem)
        let file = try fileSystem.open("/db/log", create: false)
        try file.write(bytes("defg"), at: 3)
        try file.write(bytes("X"), at: 0)
        XCTAssertEqual(fileSystem.contents(of: "/db/log"), bytes("Xbcdefg"))
        XCTAssertEqual(fileSystem.durableContents(of: "/db/log"), bytes("abc"))
        XCTAssertEqual(fileSystem.crash(seed: 7, tearing: false).contents(of: "/db/log"), bytes("abc"))
    }

    func testTornAppendsOnlyEverLeaveAPrefixOfWhatWasWritten() throws {
        let fileSystem = try makeFileSystem()
        var random = SeededRandom(seed: 42)
        let synced = (0..<100).map { _ in UInt8.random(in: 0...255, using: &random) }
        try writeDurably(synced, to: "/db/log", in: fileSystem)
        let file = try fileSystem.open("/db/log", create: false)
        var expected = synced
        var writeEnds: Set<Int> = [expected.count]
        for _ in 0..<20 {
            let chunk = (0..<(1 + random.nextInt(below: 3000))).map { _ in UInt8.random(in: 0...255, using: &random) }
            try file.write(chunk, at: Int64(expected.count))
            expected += chunk
            writeEnds.insert(expected.count)
        }
        var sawTornWrite = false
        var sawWholeWritesOnly = false
        var sawEverything = false
        for seed in UInt64(0)..<500 {
            let survived = try XCTUnwrap(fileSystem.crash(seed: seed).contents(of: "/db/log"), "seed \(seed)")
            XCTAssertGreaterThanOrEqual(survived.count, synced.count, "seed \(seed)")
            let isPrefix = survived.count <= expected.count && survived.withUnsafeBytes { crashed in
                expected.withUnsafeBytes { written in memcmp(crashed.baseAddress!, written.baseAddress!, crashed.count) == 0 }
            }
            XCTAssertTrue(isPrefix, "not a prefix of what was written: seed \(seed)")
            if !writeEnds.contains(survived.count) { sawTornWrite = true }
            if writeEnds.contains(survived.count) && survived.count < expected.count { sawWholeWritesOnly = true }
            if survived.count == expected.count { sawEverything = true }
        }
        XCTAssertTrue(sawTornWrite, "some seed should tear a write")
        XCTAssertTrue(sawWholeWritesOnly, "some seed should stop at a write boundary")
        XCTAssertTrue(sawEverything, "some seed should keep every write")
    }

    func testUnsyncedOverwritesOnlyEverShowBytesWrittenAtThatOffset() throws {
        let fileSystem = try makeFileSystem()
        let writeCount = 8
        let fileBytes = writeCount * SimulatedFileSystem.crashPageBytes
        try writeDurably([UInt8](repeating: 0xAA, count: fileBytes), to: "/db/segment", in: fileSystem)
        let file = try fileSystem.open("/db/segment", create: false)
        // Write i fills bytes 100..<1100 of page i with the value i + 1: no two writes overlap.
        let pageBytes = SimulatedFileSystem.crashPageBytes
        var written = [UInt8](repeating: 0xAA, count: fileBytes)
        for index in 0..<writeCount {
            let chunk = [UInt8](repeating: UInt8(index + 1), count: 1000)
            try file.write(chunk, at: Int64(index * pageBytes + 100))
            written.replaceSubrange((index * pageBytes + 100)..<(index * pageBytes + 1100), with: chunk)
        }
        var sawOutOfOrder = false
        for seed in UInt64(0)..<300 {
            let survived = try XCTUnwrap(fileSystem.crash(seed: seed).contents(of: "/db/segment"))
            XCTAssertEqual(survived.count, fileBytes, "seed \(seed)")
            // Every byte is the durable 0xAA or the byte written at that offset.
            let stray = survived.withUnsafeBufferPointer { crashed -> Int? in
                written.withUnsafeBufferPointer { full -> Int? in
                    var offset = 0
                    while offset < crashed.count {
                        if crashed[offset] != 0xAA && crashed[offset] != full[offset] { return offset }
                        offset += 1
                    }
                    return nil
                }
            }
            if let stray { return XCTFail("byte \(survived[stray]) at \(stray) was never written there: seed \(seed)") }
            let present = (0..<writeCount).map { survived[$0 * pageBytes + 100] != 0xAA }
            if let lastPresent = present.lastIndex(of: true), present[..<lastPresent].contains(false) {
                sawOutOfOrder = true
            }
        }
        XCTAssertTrue(sawOutOfOrder, "some seed should persist later pages without earlier ones")
    }

    func testTheSameSeedReplaysTheSameCrash() throws {
        let fileSystem = try makeFileSystem()
        let file = try fileSystem.open("/db/log", create: true)
        try fileSystem.syncDirectory("/db")
        for index in 0..<50 { try file.write([UInt8](repeating: UInt8(index), count: 777), at: Int64(index * 500)) }
        for seed in UInt64(0)..<20 {
            XCTAssertEqual(fileSystem.crash(seed: seed).contents(of: "/db/log"), fileSystem.crash(seed: seed).contents(of: "/db/log"), "seed \(seed)")
        }
    }

    func testACreatedFileWhoseDirectoryWasNotSyncedVanishes() throws {
        let fileSystem = try makeFileSystem()
        let file = try fileSystem.open("/db/new", create: true)
        try file.write(bytes("data"), at: 0)
        try file.sync()
        XCTAssertNil(fileSystem.crash(seed: 1).contents(of: "/db/new"))
        XCTAssertFalse(fileSystem.crash(seed: 1).exists("/db/new"))
    }

    func testACreatedFileSurvivesOnceItsDirectoryIsSynced() throws {
        let fileSystem = try makeFileSystem()
        let file = try fileSystem.open("/db/new", create: true)
        try file.write(bytes("data"), at: 0)
        try fileSystem.syncDirectory("/db")
        XCTAssertEqual(fileSystem.crash(seed: 1, tearing: false).contents(of: "/db/new"), [], "name durable, data not synced")
    }

    func testADirectoryWhoseParentWasNotSyncedVanishesWithItsFiles() throws {
        let fileSystem = try makeFileSystem()
        try fileSystem.createDirectory("/db/mailbox")
        try writeDurably(bytes("x"), to: "/db/mailbox/log", in: fileSystem)
        try fileSystem.syncDirectory("/db/mailbox")
        XCTAssertEqual(fileSystem.crash(seed: 3).contents(of: "/db/mailbox/log"), bytes("x"), "writeDurably synced /db")
        let unsynced = try makeFileSystem()
        try unsynced.createDirectory("/db/other")
        try unsynced.writeAtomically(bytes("y"), to: "/db/other/file", directory: "/db/other")
        XCTAssertFalse(unsynced.crash(seed: 3).exists("/db/other"))
    }

    func testARenameWithoutDirectorySyncIsUndone() throws {
        let fileSystem = try makeFileSystem()
        try writeDurably(bytes("old"), to: "/db/manifest", in: fileSystem)
        let temporary = try fileSystem.open("/db/manifest.tmp", create: true)
        try temporary.write(bytes("new"), at: 0)
        try temporary.sync()
        try fileSystem.rename("/db/manifest.tmp", to: "/db/manifest")
        XCTAssertEqual(fileSystem.contents(of: "/db/manifest"), bytes("new"))
        let crashed = fileSystem.crash(seed: 5)
        XCTAssertEqual(crashed.contents(of: "/db/manifest"), bytes("old"))
        XCTAssertFalse(crashed.exists("/db/manifest.tmp"), "the temporary's creation was never synced either")
    }

    func testARenameFollowedByADirectorySyncPersists() throws {
        let fileSystem = try makeFileSystem()
        try writeDurably(bytes("old"), to: "/db/manifest", in: fileSystem)
        try fileSystem.writeAtomically(bytes("new"), to: "/db/manifest", directory: "/db")
        let crashed = fileSystem.crash(seed: 5)
        XCTAssertEqual(crashed.contents(of: "/db/manifest"), bytes("new"))
        XCTAssertEqual(try crashed.list("/db"), ["manifest"])
    }

    func testARemoveWithoutDirectorySyncReappears() throws {
        let fileSystem = try makeFileSystem()
        try writeDurably(bytes("keep"), to: "/db/segment", in: fileSystem)
        try fileSystem.remove("/db/segment")
        XCTAssertFalse(fileSystem.exists("/db/segment"))
        XCTAssertEqual(fileSystem.crash(seed: 9).contents(of: "/db/segment"), bytes("keep"))
        let synced = try makeFileSystem()
        try writeDurably(bytes("gone"), to: "/db/segment", in: synced)
        try synced.remove("/db/segment")
        try synced.syncDirectory("/db")
        XCTAssertFalse(synced.crash(seed: 9).exists("/db/segment"))
    }

    func testDurableContentFollowsTheFileNotItsName() throws {
        let fileSystem = try makeFileSystem()
        try writeDurably(bytes("one"), to: "/db/a", in: fileSystem)
        let file = try fileSystem.open("/db/a", create: false)
        try fileSystem.rename("/db/a", to: "/db/b")
        try fileSystem.syncDirectory("/db")
        try file.write(bytes("two"), at: 0)
        let crashed = fileSystem.crash(seed: 2, tearing: false)
        XCTAssertEqual(crashed.contents(of: "/db/b"), bytes("one"))
        XCTAssertNil(crashed.contents(of: "/db/a"))
    }

    func testUnsyncedTruncationIsUndoneAndRegrowthReadsZeros() throws {
        let fileSystem = try makeFileSystem()
        try writeDurably([UInt8](repeating: 7, count: 100), to: "/db/log", in: fileSystem)
        let file = try fileSystem.open("/db/log", create: false)
        try file.truncate(to: 10)
        try file.truncate(to: 50)
        XCTAssertEqual(fileSystem.contents(of: "/db/log"), [UInt8](repeating: 7, count: 10) + [UInt8](repeating: 0, count: 40))
        XCTAssertEqual(fileSystem.crash(seed: 0, tearing: false).contents(of: "/db/log"), [UInt8](repeating: 7, count: 100))
    }

    // MARK: - Mappings

    func testAMappingReflectsLaterWrites() throws {
        let fileSystem = try makeFileSystem()
        let file = try fileSystem.open("/db/segment", create: true)
        try file.allocate(to: 8192)
        let region = try file.map(length: 8192)
        XCTAssertEqual(region.bytes[100], 0)
        try file.write(bytes("xyz"), at: 100)
        XCTAssertEqual(Array(region.bytes[100..<103]), bytes("xyz"))
        XCTAssertEqual(Int(bitPattern: region.bytes.baseAddress) % SimulatedFileSystem.crashPageBytes, 0, "page-aligned like mmap")
    }

    func testAMappingStaysValidAndCurrentWhenTheFileOutgrowsItsMemory() throws {
        let fileSystem = try makeFileSystem()
        let file = try fileSystem.open("/db/segment", create: true)
        try file.write(bytes("head"), at: 0)
        let region = try file.map(length: 4096)
        try file.write([UInt8](repeating: 1, count: 1 << 20), at: 4096)
        try file.write(bytes("HEAD"), at: 0)
        XCTAssertEqual(Array(region.bytes[0..<4]), bytes("HEAD"))
        let later = try file.map(length: 4096 + (1 << 20))
        XCTAssertEqual(later.bytes.last, 1)
        XCTAssertEqual(fileSystem.contents(of: "/db/segment")?.count, 4096 + (1 << 20))
    }

    // MARK: - Disk full and faults

    func testWritesFailWithENOSPCOverCapacityAndSucceedAfterItIsRaised() throws {
        let fileSystem = try makeFileSystem(capacityBytes: 10_000)
        let file = try fileSystem.open("/db/log", create: true)
        try file.write([UInt8](repeating: 1, count: 8000), at: 0)
        XCTAssertEqual(fileSystem.availableBytes("/db"), 2000)
        assertFails(with: ENOSPC) { try file.write([UInt8](repeating: 2, count: 4000), at: 8000) }
        XCTAssertEqual(try file.size(), 8000, "a failed write has no effect")
        fileSystem.capacityBytes = 20_000
        try file.write([UInt8](repeating: 2, count: 4000), at: 8000)
        XCTAssertEqual(fileSystem.availableBytes("/db"), 8000)
        try fileSystem.remove("/db/log")
        XCTAssertEqual(fileSystem.usedBytes, 0, "removing a file frees its bytes")
    }

    func testAllocatedSpaceCannotRunOutForWritesBelowIt() throws {
        let fileSystem = try makeFileSystem(capacityBytes: 8192)
        let file = try fileSystem.open("/db/segment", create: true)
        try file.allocate(to: 8192)
        XCTAssertEqual(fileSystem.availableBytes("/db"), 0)
        try file.write([UInt8](repeating: 3, count: 8192), at: 0)
        assertFails(with: ENOSPC) { try file.write([9], at: 8192) }
        assertFails(with: ENOSPC) { try file.allocate(to: 8193) }
    }

    func testTheFaultHookMakesASyncFailWithEIO() throws {
        let fileSystem = try makeFileSystem()
        let file = try fileSystem.open("/db/log", create: true)
        try fileSystem.syncDirectory("/db")
        try file.write(bytes("data"), at: 0)
        fileSystem.faultHook = { operation, path in
            operation == .sync && path.hasSuffix("/log") ? .io : nil
        }
        assertFails(with: EIO) { try file.sync() }
        XCTAssertEqual(fileSystem.statistics.syncCount, 0)
        XCTAssertEqual(fileSystem.statistics.injectedFaultCount, 1)
        XCTAssertEqual(fileSystem.durableContents(of: "/db/log"), [], "a failed sync makes nothing durable")
        fileSystem.faultHook = nil
        try file.sync()
        XCTAssertEqual(fileSystem.durableContents(of: "/db/log"), bytes("data"))
    }

    func testFailNextSyncFailsOnlyTheNextSync() throws {
        let fileSystem = try makeFileSystem()
        let file = try fileSystem.open("/db/log", create: true)
        fileSystem.failNextSync()
        assertFails(with: EIO) { try file.sync() }
        try file.sync()
        fileSystem.failNext(.write, errno: .noSpace)
        assertFails(with: ENOSPC) { try file.write([1], at: 0) }
        try file.write([1], at: 0)
        XCTAssertEqual(fileSystem.statistics.injectedFaultCount, 2)
    }

    // MARK: - Names, locks, errors

    func testLocksAreExclusiveUntilUnlockedAndDoNotSurviveACrash() throws {
        let fileSystem = try makeFileSystem()
        let held = try XCTUnwrap(try fileSystem.lock("/db/LOCK"))
        XCTAssertNil(try fileSystem.lock("/db/LOCK"))
        XCTAssertNil(try fileSystem.lock("db//LOCK"), "the same file by another spelling")
        XCTAssertNotNil(try fileSystem.lock("/db/OTHER"))
        try fileSystem.syncDirectory("/db")
        XCTAssertNotNil(try fileSystem.crash(seed: 0).lock("/db/LOCK"))
        held.unlock()
        held.unlock()
        XCTAssertEqual(fileSystem.isCrashed, true)
        let fresh = try makeFileSystem()
        let first = try XCTUnwrap(try fresh.lock("/db/LOCK"))
        first.unlock()
        XCTAssertNotNil(try fresh.lock("/db/LOCK"))
    }

    func testErrnosMirrorPOSIX() throws {
        let fileSystem = try makeFileSystem()
        try writeDurably(bytes("f"), to: "/db/file", in: fileSystem)
        assertFails(with: ENOENT) { _ = try fileSystem.open("/missing/file", create: true) }
        assertFails(with: ENOENT) { _ = try fileSystem.open("/db/missing", create: false) }
        assertFails(with: EISDIR) { _ = try fileSystem.open("/db", create: true) }
        assertFails(with: ENOTDIR) { _ = try fileSystem.open("/db/file/child", create: true) }
        assertFails(with: EEXIST) { try fileSystem.createDirectory("/db/file") }
        assertFails(with: ENOTDIR) { _ = try fileSystem.list("/db/file") }
        assertFails(with: ENOENT) { _ = try fileSystem.list("/nowhere") }
        assertFails(with: EISDIR) { try fileSystem.remove("/db") }
        assertFails(with: ENOENT) { try fileSystem.rename("/db/missing", to: "/db/other") }
        assertFails(with: EISDIR) { try fileSystem.rename("/db/file", to: "/db") }
        assertFails(with: EINVAL) { try fileSystem.rename("/db", to: "/db/inside") }
        assertFails(with: ENOTDIR) { try fileSystem.syncDirectory("/db/file") }
        assertFails(with: ENOENT) { try fileSystem.syncDirectory("/db/none") }
        try fileSystem.remove("/db/missing")
        try fileSystem.remove("/nowhere/missing")

        let readOnly = try fileSystem.openReadOnly("/db/file")
        assertFails(with: EBADF) { try readOnly.write([1], at: 0) }
        assertFails(with: EINVAL) { try readOnly.truncate(to: 0) }
        XCTAssertEqual(try readOnly.readAll(), bytes("f"))
        readOnly.close()
        assertFails(with: EBADF) { _ = try readOnly.readAll() }
        XCTAssertNil(fileSystem.availableBytes("/db"), "unlimited capacity is unknown free space")
    }

    func testPathsAreNormalized() throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory("/db//x/")
        let file = try fileSystem.open("db/x/./f", create: true)
        try file.write([1, 2], at: 0)
        XCTAssertTrue(fileSystem.exists("/db/x/f"))
        XCTAssertTrue(fileSystem.isDirectory("db/x/../x"))
        XCTAssertEqual(fileSystem.contents(of: "//db/x/f/"), [1, 2])
        XCTAssertEqual(try fileSystem.list("/"), ["db"])
    }

    // MARK: - Byte surgery, inspection, statistics

    func testByteSurgeryPlantsDurableCorruption() throws {
        let fileSystem = try makeFileSystem()
        fileSystem.setContents([0, 0, 0, 0], of: "/db/segment")
        fileSystem.flipBit(path: "/db/segment", offset: 2, bit: 7)
        XCTAssertEqual(fileSystem.contents(of: "/db/segment"), [0, 0, 0x80, 0])
        fileSystem.truncateFile(path: "/db/segment", to: 3)
        XCTAssertEqual(fileSystem.crash(seed: 0).contents(of: "/db/segment"), [0, 0, 0x80])
    }

    func testACrashedInstanceRefusesMutationsButStaysReadable() throws {
        let fileSystem = try makeFileSystem()
        try writeDurably(bytes("x"), to: "/db/log", in: fileSystem)
        let file = try fileSystem.open("/db/log", create: false)
        _ = fileSystem.crash(seed: 0)
        assertFails(with: EIO) { try file.write([1], at: 0) }
        assertFails(with: EIO) { try file.sync() }
        assertFails(with: EIO) { _ = try fileSystem.open("/db/new", create: true) }
        assertFails(with: EIO) { try fileSystem.rename("/db/log", to: "/db/moved") }
        XCTAssertEqual(try file.readAll(), bytes("x"))
        XCTAssertEqual(try fileSystem.list("/db"), ["log"])
    }

    func testStatisticsCountSyncsAndBytesWritten() throws {
        let fileSystem = try makeFileSystem()
        let file = try fileSystem.open("/db/log", create: true)
        try file.write([1, 2, 3], at: 0)
        try file.write([4], at: 3)
        try file.write([], at: 4)
        try file.sync()
        try fileSystem.syncDirectory("/db")
        var expected = SimulatedFileSystem.Statistics()
        expected.writeCount = 2
        expected.bytesWritten = 4
        expected.syncCount = 1
        expected.directorySyncCount = 1
        XCTAssertEqual(fileSystem.statistics, expected)
    }

    func testSeededRandomReplaysItsSequence() {
        var first = SeededRandom(seed: 99)
        var second = SeededRandom(seed: 99)
        let sequence = (0..<100).map { _ in first.next() }
        XCTAssertEqual(sequence, (0..<100).map { _ in second.next() })
        var other = SeededRandom(seed: 100)
        XCTAssertNotEqual(sequence, (0..<100).map { _ in other.next() })
        for _ in 0..<1000 { XCTAssertTrue((0..<7).contains(first.nextInt(below: 7))) }
    }

    func testConcurrentWritersToDistinctFilesLoseNothing() throws {
        let fileSystem = try makeFileSystem()
        let files = try (0..<4).map { index in try fileSystem.open("/db/file\(index)", create: true) }
        let writesPerFile = 200
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            for write in 0..<writesPerFile {
                try? files[index].write([UInt8(truncatingIfNeeded: write)], at: Int64(write))
                if write % 50 == 0 { try? files[index].sync() }
            }
        }
        for index in files.indices {
            XCTAssertEqual(fileSystem.contents(of: "/db/file\(index)"), (0..<writesPerFile).map { UInt8(truncatingIfNeeded: $0) })
        }
        XCTAssertEqual(fileSystem.statistics.bytesWritten, Int64(files.count * writesPerFile))
    }
}
