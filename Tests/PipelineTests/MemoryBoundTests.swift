import Foundation
import SluiceTestSupport
import Imaging
import Parquet
import Testing

/// Peak memory stays within --max-memory plus a constant (the model and the runtime, measured here on a
/// tiny input), whatever the images: large photos and a row group of big JPEGs.
@Suite("--max-memory bounds peak memory", .serialized)
struct MemoryBoundTests {
    /// A `width`×`height` JPEG of noise (it barely compresses, so the files are large).
    static func noiseJPEG(width: Int, height: Int, seed: UInt64) throws -> [UInt8] {
        var random = SplitMix64(seed: seed)
        let pixels = (0..<width * height * 3).map { _ in UInt8(truncatingIfNeeded: random.next() >> 56) }
        return try pixels.withUnsafeBytes { try JPEGEncoder(quality: 90).encode(try PixelView($0, width: width, height: height, layout: .rgb)) }
    }

    /// Runs `sluice run`; returns its exit status, peak RSS and failed-image count from --stats-json.
    static func run(_ input: String, _ root: String, name: String, maxMemory: String) throws -> (status: Int32, peak: Int64, failed: Int, unitsFailed: Int) {
        let stats = (root as NSString).appendingPathComponent("stats-\(name).json")
        let process = try CommandLineTests.run(["run", "--input", input, "--output", (root as NSString).appendingPathComponent("out-\(name)"),
                                                "--model", "resnet18", "--batch-size", "4", "--model-replicas", "1", "--max-memory", maxMemory,
                                                "--no-progress", "--stats-json", stats])
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stats))) as? [String: Any]
        return (process.terminationStatus, (report?["peakRSSBytes"] as? NSNumber)?.int64Value ?? 0,
                (report?["imagesFailed"] as? Int) ?? -1, (report?["unitsFailed"] as? [String: String])?.count ?? -1)
    }

    @Test("large photos and a 25 MB row group of JPEGs: within the budget and the model's constant, or refused by name")
    func largeInputs() throws {
        let root = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let photos = (root as NSString).appendingPathComponent("photos"), table = (root as NSString).appendingPathComponent("table")
        let tiny = (root as NSString).appendingPathComponent("tiny")
        for directory in [photos, table, tiny] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        var images: [[UInt8]] = []
        for i in 0..<8 {
            let jpeg = try Self.noiseJPEG(width: 2000, height: 1500, seed: UInt64(i + 1))
            images.append(jpeg)
            try Data(jpeg).write(to: URL(fileURLWithPath: (photos as NSString).appendingPathComponent("photo-\(i).jpg")))
        }
        try Data(try Self.noiseJPEG(width: 64, height: 48, seed: 99)).write(to: URL(fileURLWithPath: (tiny as NSString).appendingPathComponent("t.jpg")))
        let writer = try ParquetFileWriter(path: (table as NSString).appendingPathComponent("big.parquet"),
                                           fields: [.primitive(name: "image", type: .byteArray, nullable: false)])
        try writer.writeRowGroup(rows: images.count, columns: [.required(.byteArray(BinaryValues(images)))])
        try writer.close()
        let rowGroupBytes = images.reduce(0) { $0 + $1.count }
        try #require(rowGroupBytes > 20 << 20, "the row group must be large: \(rowGroupBytes) bytes")

        // The constant: the model, the runtime and the allocator's baseline, on one tiny image.
        let baseline = try Self.run(tiny, root, name: "tiny", maxMemory: "64MiB")
        try #require(baseline.status == 0 && baseline.peak > 0)
        let slack: Int64 = 48 << 20

        // A budget the inputs fit: every image classified.
        for (input, name) in [(photos, "photos"), (table, "table")] {
            let fits = try Self.run(input, root, name: "\(name)-512", maxMemory: "512MiB")
            #expect(fits.status == 0 && fits.failed == 0, "\(name) at 512 MiB")
            #expect(fits.peak <= (512 << 20) + baseline.peak + slack, "\(name): peak \(fits.peak >> 20) MiB, baseline \(baseline.peak >> 20) MiB")
            print("memory bound: \(name) at 512 MiB: peak \(fits.peak >> 20) MiB")
        }
        // A budget they do not fit: refused with a clear error (exit 1), and memory still bounded.
        let photosSmall = try Self.run(photos, root, name: "photos-64", maxMemory: "64MiB")
        #expect(photosSmall.status == 1 && photosSmall.failed == 8)
        #expect(photosSmall.peak <= (64 << 20) + baseline.peak + slack, "photos: peak \(photosSmall.peak >> 20) MiB")
        let tableSmall = try Self.run(table, root, name: "table-64", maxMemory: "64MiB")
        #expect(tableSmall.status == 1 && tableSmall.unitsFailed == 1)
        #expect(tableSmall.peak <= (64 << 20) + baseline.peak + slack, "table: peak \(tableSmall.peak >> 20) MiB")
        print("memory bound: baseline \(baseline.peak >> 20) MiB; at 64 MiB: photos \(photosSmall.peak >> 20), table \(tableSmall.peak >> 20) MiB")
        let errors = try String(contentsOfFile: (root as NSString).appendingPathComponent("stats-table-64.json"), encoding: .utf8)
        #expect(errors.contains("--max-memory"))
    }
}
