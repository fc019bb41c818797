import ArgumentParser
import Foundation
import ObjectStore
import Parquet
import Pipeline

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a Parquet file's schema, row groups, codecs, encodings and tensor columns.",
        discussion: """
        PATH may be a file, a directory, an s3://bucket/key URL or an s3://bucket/prefix/; every *.parquet \
        file directly in a directory or under a prefix is described.
        """
    )

    @Argument(help: "Parquet files, directories, s3:// objects or prefixes.")
    var paths: [String]

    @OptionGroup var storage: StorageOptions

    @OptionGroup(title: "Image columns that are plain numeric lists (as for run)") var tensorInput: TensorInputArguments

    func run() throws {
        let objectStorage = try storage.makeStorage()
        defer { objectStorage.shutdown() }
        let tensorOptions = try tensorInput.options()
        var failures = 0
        for file in try ParquetPaths.expand(paths, objectStorage) {
            do {
                let reader = try ParquetFileReader(source: objectStorage.openSource(file))
                print(FileDescription(reader).render())
                ImageColumnReport.lines(reader, options: tensorOptions).forEach { print($0) }
                print()
            } catch {
                failures += 1
                printError("sluice inspect: \(error)")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

struct Head: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the first rows of a Parquet file as JSON lines.",
        discussion: """
        Binary values print as their length and CRC-32, tensors as shape, dtype and CRC-32, dates and \
        timestamps as ISO-8601 strings. Lists longer than 32 values print as their length, first values and \
        the CRC-32 of their values ("[196608 × uint8: 12, 200, 7, …] crc32=…"), strings longer than 256 bytes \
        as their first 64 characters and length. Only the pages holding the rows printed are decoded.
        """
    )

    @Argument(help: "A Parquet file, a directory of them, an s3:// object or prefix (read in name order).")
    var path: String

    @Option(name: .short, help: "Number of rows.")
    var n = 10

    @Flag(help: "Verify the CRC-32 of every page that carries one (pyarrow does not by default).")
    var verifyChecksums = false

    @OptionGroup var storage: StorageOptions

    func run() throws {
        let objectStorage = try storage.makeStorage()
        defer { objectStorage.shutdown() }
        var remaining = n
        for file in try ParquetPaths.expand([path], objectStorage) where remaining > 0 {
            let reader = try ParquetFileReader(source: objectStorage.openSource(file))
            let lines = try RowPreview(reader, options: ReadOptions(verifyChecksums: verifyChecksums)).lines(limit: remaining)
            lines.forEach { print($0) }
            remaining -= lines.count
        }
    }
}

enum ParquetPaths {
    /// Files and objects as given; directories and S3 prefixes expanded to the *.parquet files directly in
    /// them, in name order.
    static func expand(_ paths: [String], _ storage: ObjectStorage) throws -> [ObjectInfo] {
        do {
            return try storage.expand(paths, suffix: ".parquet")
        } catch let error as ObjectStoreError {
            throw ValidationError("\(error)")
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
