import ArgumentParser
import Foundation
import Parquet

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a Parquet file's schema, row groups, codecs, encodings and tensor columns.",
        discussion: "PATH may be a file or a directory; every *.parquet file in a directory is described."
    )

    @Argument(help: "Parquet files or directories.")
    var paths: [String]

    func run() throws {
        var failures = 0
        for file in try ParquetPaths.expand(paths) {
            do {
                let reader = try ParquetFileReader(path: file)
                print(FileDescription(reader).render())
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
        timestamps as ISO-8601 strings.
        """
    )

    @Argument(help: "A Parquet file or a directory of them (read in name order).")
    var path: String

    @Option(name: .short, help: "Number of rows.")
    var n = 10

    @Flag(help: "Verify the CRC-32 of every page that carries one (pyarrow does not by default).")
    var verifyChecksums = false

    func run() throws {
        var remaining = n
        for file in try ParquetPaths.expand([path]) where remaining > 0 {
            let reader = try ParquetFileReader(path: file)
            let lines = try RowPreview(reader, options: ReadOptions(verifyChecksums: verifyChecksums)).lines(limit: remaining)
            lines.forEach { print($0) }
            remaining -= lines.count
        }
    }
}

enum ParquetPaths {
    /// Files as given, directories expanded to their *.parquet files in name order.
    static func expand(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("\(path): no such file or directory")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path)
                    .filter { $0.hasSuffix(".parquet") }.sorted()
                guard !names.isEmpty else { throw ValidationError("\(path): no .parquet files in this directory") }
                files += names.map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        return files
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
