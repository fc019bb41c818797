import Foundation
import Testing
@testable import ObjectStore

/// Temporaries carry their owner; a clean-up removes only those whose owner is gone.
struct LocalTemporariesTests {
    /// No process has this pid: Linux's pid_max is at most 2^22.
    static let deadPid: Int32 = 2_000_000_000

    static func touch(_ path: String, ageSeconds: TimeInterval = 0) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data([1]).write(to: URL(fileURLWithPath: path))
        if ageSeconds > 0 {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -ageSeconds)], ofItemAtPath: path)
        }
    }

    @Test func aWritersTemporaryNamesItsOwner() throws {
        let directory = try TestPaths.temporaryDirectory("tmp-name")
        let writer = try LocalObjectWriter(path: directory + "/part-00001.parquet")
        let name = (writer.temporaryPath as NSString).lastPathComponent
        #expect(name.hasPrefix(".part-00001.parquet.sluice-tmp-\(getpid())@\(LocalTemporaries.currentHost)-"))
        #expect(LocalObjectWriter.isTemporaryName(name))
        #expect(ObjectStorage.isTemporaryName(writer.temporaryPath))
        #expect(LocalTemporaries.owner(ofTemporaryName: name) == .init(pid: getpid(), host: LocalTemporaries.currentHost))
        #expect(!ObjectStorage.isTemporaryName("part-00001.parquet"))
        #expect(!ObjectStorage.isTemporaryName(directory + "/.sluice-tmp-dir/part.parquet"))
        // A live writer's temporary survives a clean-up, even an impatient one.
        #expect(try ObjectStorage(environment: [:]).removeAbandonedTemporaries(under: directory, olderThan: 0) == [])
        #expect(FileManager.default.fileExists(atPath: writer.temporaryPath))
        try writer.close()

        // A very long target name still gives a temporary name within NAME_MAX.
        let long = String(repeating: "é", count: 120)  // 240 bytes
        let longWriter = try LocalObjectWriter(path: directory + "/" + long)
        #expect((longWriter.temporaryPath as NSString).lastPathComponent.utf8.count <= 255)
        longWriter.abort()
    }

    @Test func onlyTemporariesWhoseOwnerIsGoneAreRemoved() throws {
        let directory = try TestPaths.temporaryDirectory("tmp-clean")
        let host = LocalTemporaries.currentHost
        // A process that has run and exited (and been reaped): its pid no longer exists.
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()

        let day: TimeInterval = 24 * 3600
        let removed = [
            "/.a.parquet.sluice-tmp-\(Self.deadPid)@\(host)-1f",          // this host, no such process
            "/.i.parquet.sluice-tmp-\(finished.processIdentifier)@\(host)-7e",  // this host, process exited
            "/_errors/.e.parquet.sluice-tmp-\(Self.deadPid)@\(host)-2e",  // below the folder too
            "/.b.parquet.sluice-tmp-77@other-host.example-3d",            // other host, two days old
            "/.c.parquet.sluice-tmp-4242-123456",                         // an older Sluice's name, two days old
        ]
        let kept = [
            "/.d.parquet.sluice-tmp-\(getppid())@\(host)-4c",                 // another live process of this host
            "/.f.parquet.sluice-tmp-\(getpid())@\(host)-5b",                   // this process
            "/.g.parquet.sluice-tmp-77@other-host.example-6a",                 // other host, fresh: may be live
            "/.h.parquet.sluice-tmp-4242-654321",                              // no owner, fresh
            "/old-data.parquet",                                               // not a temporary, however old
            "/.hidden-but-not-ours",
        ]
        for name in removed { try Self.touch(directory + name, ageSeconds: name.contains("@\(host)") ? 0 : 2 * day) }
        for name in kept { try Self.touch(directory + name, ageSeconds: name.contains("old-data") ? 3 * day : 0) }

        let result = try ObjectStorage(environment: [:]).removeAbandonedTemporaries(under: directory)
        #expect(result == removed.map { directory + $0 }.sorted())
        for name in removed { #expect(!FileManager.default.fileExists(atPath: directory + name), "\(name)") }
        for name in kept { #expect(FileManager.default.fileExists(atPath: directory + name), "\(name)") }
        // Another clean-up finds nothing more: the live ones stay.
        #expect(try LocalTemporaries.removeAbandoned(in: directory) == [])
    }

    @Test func s3AndMissingFoldersHaveNothingToRemove() throws {
        let storage = ObjectStorage(environment: [:], homeDirectory: "/nonexistent")
        #expect(try storage.removeAbandonedTemporaries(under: "s3://bucket/out/") == [])
        #expect(try storage.removeAbandonedTemporaries(under: "/nonexistent/sluice/out") == [])
        #expect(storage.stats.totalRequests == 0)
    }

    @Test func aSymlinkToAnAncestorIsWalkedOnce() throws {
        let directory = try TestPaths.temporaryDirectory("cycle")
        try Self.touch(directory + "/sub/a.bin")
        try FileManager.default.createSymbolicLink(atPath: directory + "/sub/loop", withDestinationPath: directory)
        let listed = try LocalFileStore().list(prefix: directory, recursive: true).objects.map(\.key)
        #expect(listed == [directory + "/sub/a.bin"])
    }
}
