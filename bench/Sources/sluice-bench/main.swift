// Benchmarks of Sluice's hot paths, each printed side by side with its peer from the same run.
//
//   sluice-bench tensor-read FILE... [--repeat R] [--threads T] [--no-peer]
//   sluice-bench preprocess [--images DIR] [--raw N] [--repeat R] [--threads T] [--fast-decode] [--decode-only] [--only raw,jpeg-256,photos] [--no-peer]
//
// Reads the `image` tensor column of FILE into uint8 buffers with Sluice, with pyarrow
// (bench/peers/pyarrow_read_tensor.py, one thread) and with a plain memory copy of the same bytes.
//
//   sluice-bench s3-read FILE... [--repeat R] [--threads T] [--no-peer]
//
// The same column read over S3 from a local moto server, against pyarrow.fs.S3FileSystem (S3Read.swift).
//
//   sluice-bench generic-read FILE [--repeat R] [--no-peer]
//
// Every column of FILE into typed column buffers, against pyarrow's read_table (GenericRead.swift).
import Dispatch
import Foundation
import Parquet

struct Measurement {
    var seconds: [Double] = []
    var best: Double { seconds.min() ?? .nan }
    var median: Double { seconds.sorted()[seconds.count / 2] }
}

func time(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// The stored shape of the `image` column: its metadata's, or inferred from the row length (plain lists).
func imageShape(_ reader: ParquetFileReader) throws -> [Int] {
    let layout = try TensorColumnLayout.describe(file: reader, field: "image")
    return try TensorShapeInference.resolve(file: reader, column: "image", layout: layout, requested: nil, order: nil).shape
}

/// Reads every row of the tensor column; returns (rows, checksum) so the work cannot be optimised away.
func readAll(_ path: String, rowGroups: [Int]? = nil) throws -> (Int, UInt64) {
    let reader = try ParquetFileReader(path: path)
    let tensors = try TensorColumnReader(file: reader, column: "image", shape: try imageShape(reader), rowGroups: rowGroups)
    var rows = 0
    var checksum: UInt64 = 0
    while let batch = try tensors.next(targetRows: 64) {
        rows += batch.rowCount
        checksum &+= UInt64(batch.bytes[batch.bytes.count / 2]) &+ UInt64(batch.bytes[batch.bytes.count - 1])
    }
    return (rows, checksum)
}

func tensorRead(_ arguments: [String]) throws {
    // Several files (e.g. the Ray file, a plain list<uint8> and a list<int16> file): each measured in turn.
    let files = Array(arguments.prefix { !$0.hasPrefix("--") })
    guard !files.isEmpty else {
        print("usage: sluice-bench tensor-read FILE... [--repeat R] [--threads T] [--no-peer] [--only-sluice]")
        exit(2)
    }
    let options = Array(arguments.dropFirst(files.count))
    var summary: [String] = []
    for path in files {
        try tensorRead(path, options, summary: &summary)
        print()
    }
    if files.count > 1 {
        print("summary (1 thread, best of the runs):")
        summary.forEach { print($0) }
    }
}

func tensorRead(_ path: String, _ arguments: [String], summary: inout [String]) throws {
    func option(_ name: String, _ fallback: Int) -> Int {
        arguments.firstIndex(of: name).flatMap { arguments.indices.contains($0 + 1) ? Int(arguments[$0 + 1]) : nil } ?? fallback
    }
    let repeats = option("--repeat", 5)
    if arguments.contains("--only-sluice") {  // for profilers: nothing but Sluice's reads
        for _ in 0..<repeats { _ = try readAll(path) }
        return
    }
    let threads = option("--threads", ProcessInfo.processInfo.activeProcessorCount)
    let reader = try ParquetFileReader(path: path)
    let tensors = try TensorColumnReader(file: reader, column: "image", shape: try imageShape(reader))
    let rows = Int(reader.numRows)
    let pixelBytes = rows * tensors.rowBytes
    let layout = try TensorColumnLayout.describe(file: reader, field: "image")
    print("file: \(path): \(layout), \(rows) images of shape \(tensors.shape) read as \(tensors.element), \(formatBytes(Int64(pixelBytes))) of pixels, \(formatBytes(reader.fileSize)) on disk")

    // Ceiling: copying the same number of bytes from one buffer to another.
    let source = [UInt8](repeating: 7, count: pixelBytes)
    var target = [UInt8](repeating: 0, count: pixelBytes)
    var copy = Measurement()
    for _ in 0..<repeats {
        copy.seconds.append(time {
            target.withUnsafeMutableBytes { out in source.withUnsafeBytes { out.copyMemory(from: $0) } }
        })
    }
    precondition(target[pixelBytes / 2] == 7)

    var sluice = Measurement()
    for _ in 0..<repeats {
        sluice.seconds.append(try time {
            let (count, _) = try readAll(path)
            precondition(count == rows, "read \(count) rows, expected \(rows)")
        })
    }

    // Scaling: `threads` readers at once, each reading the whole file (as parallel workers would read files).
    var parallel = Measurement()
    if threads > 1 {
        for _ in 0..<repeats {
            parallel.seconds.append(time {
                DispatchQueue.concurrentPerform(iterations: threads) { _ in _ = try? readAll(path) }
            })
        }
    }

    let peer = arguments.contains("--no-peer") ? nil : runPeerScript("pyarrow_read_tensor.py", [path, "--repeat", String(max(1, min(repeats, 3)))])

    func row(_ name: String, _ seconds: Double, images: Int) -> String {
        let rate = Double(images) / seconds
        let gbps = Double(images * tensors.rowBytes) / seconds / 1e9
        return "\(name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%9.0f", rate)) images/s  \(String(format: "%6.2f", gbps)) GB/s"
    }
    print("\nbest of \(repeats) runs (pixels decoded into uint8 buffers):")
    print(row("memcpy of the same bytes (ceiling)", copy.best, images: rows))
    print(row("sluice, 1 thread", sluice.best, images: rows))
    if threads > 1 { print(row("sluice, \(threads) threads", parallel.best, images: rows * threads)) }
    if let peer, let seconds = peer["seconds_best"] as? Double {
        print(row("pyarrow \(peer["version"] ?? "?"), 1 thread", seconds, images: rows))
        print(String(format: "\nsluice / pyarrow: %.1fx   sluice / memcpy: %.2f   (1 thread)", seconds / sluice.best, copy.best / sluice.best))
        summary.append("  \(layout): " + String(format: "sluice %.0f images/s, pyarrow %.0f images/s, %.1fx", Double(rows) / sluice.best,
                                                     Double(rows) / seconds, seconds / sluice.best))
    } else if !arguments.contains("--no-peer") {
        print("\npyarrow peer unavailable (pip install pyarrow numpy)")
    }
    if threads > 1 {
        print(String(format: "scaling: %.2fx with %d threads (linear would be %d.0x)", sluice.best * Double(threads) / parallel.best, threads, threads))
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "tensor-read": try tensorRead(Array(arguments.dropFirst()))
case "preprocess": try preprocessBench(Array(arguments.dropFirst()))
case "s3-read": try s3Read(Array(arguments.dropFirst()))
case "generic-read": try genericRead(Array(arguments.dropFirst()))
default:
    print("usage: sluice-bench tensor-read FILE... [--repeat R] [--threads T] [--no-peer]")
    print("       sluice-bench preprocess [--images DIR] [--raw N] [--repeat R] [--threads T] [--fast-decode] [--decode-only] [--only raw,jpeg-256,photos] [--no-peer]")
    print("       sluice-bench s3-read FILE.parquet... [--repeat R] [--threads T] [--no-peer]")
    print("       sluice-bench generic-read FILE.parquet [--repeat R] [--no-peer]")
    exit(arguments.isEmpty ? 0 : 2)
}
