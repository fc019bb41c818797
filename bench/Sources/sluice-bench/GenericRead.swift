import Foundation
import Parquet

// sluice-bench generic-read FILE [--repeat R] [--no-peer]
//
// Every leaf column of every row group of FILE decoded into typed column buffers (values, definition and
// repetition levels: `ParquetFileReader.readColumns`), one thread, next to pyarrow's
// `read_table(use_threads=False)` of the same file (bench/peers/pyarrow_read_table.py) in the same run.
// Files: `python3 bench/peers/write_generic_tables.py wide wide.parquet` (strings, ints, doubles, nested lists).

/// Reads the whole file; returns (values, entries) so the work cannot be optimised away.
func readAllColumns(_ path: String) throws -> (values: Int, entries: Int) {
    let reader = try ParquetFileReader(path: path)
    var values = 0
    var entries = 0
    for group in 0..<reader.rowGroupCount {
        for chunk in try reader.readColumns(rowGroup: group) {
            values += chunk.values.count
            entries += chunk.entryCount
        }
    }
    return (values, entries)
}

func genericRead(_ arguments: [String]) throws {
    guard let path = arguments.first else {
        print("usage: sluice-bench generic-read FILE [--repeat R] [--no-peer]")
        exit(2)
    }
    let repeats = arguments.firstIndex(of: "--repeat").flatMap { arguments.indices.contains($0 + 1) ? Int(arguments[$0 + 1]) : nil } ?? 5
    let reader = try ParquetFileReader(path: path)
    print("file: \(path): \(reader.numRows) rows, \(reader.schema.fields.count) fields, \(reader.schema.columns.count) leaf columns, \(reader.rowGroupCount) row groups, \(formatBytes(reader.fileSize)) on disk")
    var sluice = Measurement()
    var counts = (values: 0, entries: 0)
    for _ in 0..<max(1, repeats) {
        sluice.seconds.append(try time { counts = try readAllColumns(path) })
    }
    let peer = arguments.contains("--no-peer") ? nil : runPeerScript("pyarrow_read_table.py", [path, "--repeat", String(max(1, min(repeats, 5)))])
    let megabytes = Double(reader.fileSize) / 1e6
    func row(_ name: String, _ seconds: Double) -> String {
        "\(name.padding(toLength: 38, withPad: " ", startingAt: 0)) \(String(format: "%8.3f", seconds)) s  \(String(format: "%7.0f", megabytes / seconds)) MB/s of file"
    }
    print("\nbest of \(repeats) runs (\(counts.values) values, \(counts.entries) entries into typed column buffers):")
    print(row("sluice readColumns, 1 thread", sluice.best))
    if let peer, let seconds = peer["seconds_best"] as? Double {
        print(row("pyarrow \(peer["version"] ?? "?") read_table, 1 thread", seconds))
        print(String(format: "\nsluice / pyarrow: %.2fx (above 1: sluice is faster)", seconds / sluice.best))
    } else if !arguments.contains("--no-peer") {
        print("\npyarrow peer unavailable (pip install pyarrow numpy)")
    }
}
