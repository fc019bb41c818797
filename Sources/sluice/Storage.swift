import ArgumentParser
import Foundation
import ObjectStore

struct Ls: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List objects under an S3 prefix or files in a directory.",
        discussion: "Prints size and URL per object, and sub-directories (common prefixes) ending in '/'."
    )

    @Argument(help: "s3://bucket/prefix/ or a directory.")
    var url: String

    @Flag(name: .shortAndLong, help: "List everything below, not just one level.")
    var recursive = false

    @OptionGroup var storage: StorageOptions

    func run() throws {
        let objectStorage = try storage.makeStorage()
        defer { objectStorage.shutdown() }
        let (store, key) = try objectStorage.store(for: url)
        let listing = try store.list(prefix: key, recursive: recursive)
        for directory in listing.directories { print("\(String(repeating: " ", count: 12)) DIR  \(directory)") }
        for object in listing.objects {
            let size = String(object.size)
            print("\(String(repeating: " ", count: max(0, 12 - size.count)))\(size)  \(object.url)")
        }
    }
}

struct Cp: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy files and objects between local disk and S3, atomically.",
        discussion: """
        SRC and DST are s3://bucket/key URLs or local paths, in any combination. Large objects are read with \
        parallel ranged GETs and written as multipart uploads; a destination appears only when it is \
        complete (S3: the upload is completed, or aborted on failure; local: written to a temporary file, \
        then renamed). With --recursive, SRC is a prefix or directory and every object below it is copied \
        to the same relative name under DST.
        """
    )

    @Argument(help: "Source: s3://bucket/key or a path.")
    var source: String

    @Argument(help: "Destination: s3://bucket/key, s3://bucket/prefix/, a path or a directory.")
    var destination: String

    @Flag(name: .shortAndLong, help: "Copy everything under the SRC prefix or directory.")
    var recursive = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    @OptionGroup var storage: StorageOptions

    func run() throws {
        let objectStorage = try storage.makeStorage()
        defer { objectStorage.shutdown() }
        let report = try ObjectCopy(storage: objectStorage).copy(source, to: destination, recursive: recursive) { object, target in
            if !quiet { print("copy \(object.url) -> \(target)") }
        }
        if !quiet {
            let rate = Double(report.bytes) / max(report.seconds, 1e-9) / 1e6
            print("\(report.objects) object\(report.objects == 1 ? "" : "s"), \(report.bytes) bytes in \(String(format: "%.2f", report.seconds)) s (\(String(format: "%.1f", rate)) MB/s)")
            let stats = objectStorage.stats
            if stats.totalRequests > 0 { print("S3: \(stats)") }
        }
    }
}
