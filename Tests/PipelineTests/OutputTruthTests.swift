import Foundation
import ObjectStore
@testable import Parquet
@testable import Pipeline
import SluiceTestSupport
import Testing

/// Every input row is predicted once or reported; the exit status and `_SUCCESS` say which. Each test is
/// a defect a hostile review found, rebuilt from a minimal input.
@Suite("Output tells the truth", .serialized)
struct OutputTruthTests {
    static let strategies = RunConfiguration.Strategy.allCases.filter { $0 != .perRequest }
    static let labels = (0..<10).map { "class \($0)" }

    static func path(_ directory: String, _ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    static func exists(_ directory: String, _ name: String) -> Bool { FileManager.default.fileExists(atPath: path(directory, name)) }

    static func temporaryDirectory() throws -> String {
        let directory = try TestData.temporaryDirectory("truth")
        try FileManager.default.createDirectory(atPath: path(directory, "input"), withIntermediateDirectories: true)
        return directory
    }

    /// Rewrites a file's footer after `change` (the pages stay as they are).
    static func rewriteFooter(_ file: String, _ change: (inout FileMetaData) -> Void) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        let n = bytes.count
        let footerLength = Int(bytes[n - 8]) | Int(bytes[n - 7]) << 8 | Int(bytes[n - 6]) << 16 | Int(bytes[n - 5]) << 24
        var metadata = try ParquetFileReader(path: file).metadata
        change(&metadata)
        let footer = metadata.thriftBytes()
        var rewritten = Array(bytes[0..<(n - 8 - footerLength)])
        rewritten += footer
        withUnsafeBytes(of: UInt32(footer.count).littleEndian) { rewritten += $0 }
        rewritten += Array("PAR1".utf8)
        try Data(rewritten).write(to: URL(fileURLWithPath: file))
    }

    @Test("a unit whose every record fails is still written (null predictions) with its error rows", arguments: strategies)
    func everyRecordFails(_ strategy: RunConfiguration.Strategy) throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data([UInt8](repeating: 0xFF, count: 48)).write(to: URL(fileURLWithPath: Self.path(directory, "input/corrupt.jpg")))
        let report = try PipelineTests.run(directory, strategy: strategy) { $0.labels = Self.labels }
        #expect(report.unitsFailed.isEmpty)
        #expect(report.images == 1)
        #expect(report.imagesFailed == 1)
        #expect(!report.succeeded)
        let output = Self.path(directory, "output")
        let rows = try ParquetFileReader(path: Self.path(output, "images-00000.parquet")).readRows(rowGroup: 0)
        #expect(rows.count == 1)
        #expect(rows.first?[0].value == .string("corrupt.jpg"))
        #expect(rows.first?[1].value == .null)
        #expect(rows.first?[3].value == .null)
        let errors = try ParquetFileReader(path: Self.path(output, "_errors/images-00000.parquet")).readRows(rowGroup: 0)
        #expect(errors.first?[3].value == .string("corrupt test image"))
        // Every row is accounted for, so the job is complete (with errors: the exit status says so).
        #expect(Self.exists(output, "_SUCCESS"))
    }

    @Test("a file with no rows gets a part with no rows", arguments: strategies)
    func zeroRows(_ strategy: RunConfiguration.Strategy) throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try ParquetFileWriter(path: Self.path(directory, "input/empty.parquet"),
                                           fields: [.primitive(name: "image", type: .byteArray, nullable: true)])
        try writer.close()
        let report = try PipelineTests.run(directory, strategy: strategy) { $0.labels = Self.labels }
        #expect(report.succeeded)
        let output = Self.path(directory, "output")
        let part = try ParquetFileReader(path: Self.path(output, "empty.parquet"))
        #expect(part.numRows == 0)
        #expect(part.schema.fields.map(\.name) == ["id", "top_k", "scores", "labels"])
        #expect(Self.exists(output, "_SUCCESS"))
    }

    @Test("a footer that declares more or fewer rows than the pages hold fails its unit", arguments: strategies)
    func footerRowCountIsChecked(_ strategy: RunConfiguration.Strategy) throws {
        for declared in [30, 20] {
            let directory = try PipelineTests.dataset(files: 2, rows: 25)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let lying = Self.path(directory, "input/part-00001.parquet")
            try Self.rewriteFooter(lying) {
                $0.numRows = Int64(declared)
                $0.rowGroups[0].numRows = Int64(declared)
            }
            let report = try PipelineTests.run(directory, strategy: strategy)
            let output = Self.path(directory, "output")
            #expect(report.unitsFailed.count == 1, "\(strategy), \(declared) rows declared")
            #expect(report.unitsFailed.keys.first?.hasSuffix("part-00001.parquet") == true)
            #expect(!report.succeeded)
            #expect(Self.exists(output, "part-00000.parquet"))
            #expect(!Self.exists(output, "part-00001.parquet"), "\(strategy), \(declared) rows declared")
            #expect(!Self.exists(output, "_SUCCESS"))
            #expect(try PipelineTests.predictions(output).count == 25)
        }
    }

    @Test("an output that is an input directory, or inside one, is refused before anything is written")
    func outputInsideInput() throws {
        let directory = try PipelineTests.dataset(files: 1, rows: 5)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for output in ["input", "input/predictions", "input/../input/"] {
            #expect(throws: PipelineError.self, "\(output)") { try PipelineTests.run(directory, strategy: .streaming, output: output) }
        }
        #expect(!Self.exists(directory, "input/_SUCCESS"))
        #expect(!Self.exists(directory, "input/predictions"))
        // A single input file: its own directory is refused, a folder beside it is fine.
        let file = Self.path(directory, "input/part-00000.parquet")
        var configuration = RunConfiguration(inputs: [file], output: Self.path(directory, "input"))
        configuration.progress = false
        #expect(throws: PipelineError.self) {
            try Job(configuration: configuration, preprocessor: CropPreprocessor(), model: HashModelFactory()).run()
        }
        #expect(throws: PipelineError.self) {
            try OutputLocation.checkOutsideInputs(output: "s3://bucket/data/out/", inputs: ["s3://bucket/data/"])
        }
        try OutputLocation.checkOutsideInputs(output: "s3://bucket/predictions/", inputs: ["s3://bucket/data/"])
        try OutputLocation.checkOutsideInputs(output: "s3://bucket/data/out/", inputs: ["s3://bucket/data/part-0.parquet"])
    }

    @Test("_SUCCESS is removed when a rerun fails, and written only once every shard's parts are committed")
    func successMarker() throws {
        let directory = try PipelineTests.dataset(files: 3, rows: 4)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = Self.path(directory, "output")
        let shard0 = try PipelineTests.run(directory, strategy: .streaming) { $0.shard = (0, 2) }
        #expect(shard0.succeeded)
        #expect(!shard0.jobComplete)
        let units = try InputDiscovery.units([Self.path(directory, "input")], storage: ObjectStorage())
        #expect(shard0.jobPartsMissing == ShardPlan(units: units, count: 2).units(of: 1).count, "shard 1's parts")
        #expect(!Self.exists(output, "_SUCCESS"))
        #expect(!Self.exists(output, "_summary.json"))
        let shard1 = try PipelineTests.run(directory, strategy: .fused) { $0.shard = (1, 2) }
        #expect(shard1.jobComplete)
        #expect(Self.exists(output, "_SUCCESS"))
        #expect(Self.exists(output, "_summary.json"))

        // A new input file that cannot be read: the rerun fails, and the old marker must not say otherwise.
        try Data("not parquet".utf8).write(to: URL(fileURLWithPath: Self.path(directory, "input/part-00003.parquet")))
        let rerun = try PipelineTests.run(directory, strategy: .streaming)
        #expect(!rerun.succeeded)
        #expect(rerun.unitsSkipped == 3)
        #expect(!Self.exists(output, "_SUCCESS"))
        #expect(!Self.exists(output, "_summary.json"))
    }

    @Test("byte sizes: units, and no NaN, infinity, negative or overflowing values")
    func byteSizes() {
        #expect(ByteSize.parse("2GiB") == 2 << 30)
        #expect(ByteSize.parse("512MiB") == 512 << 20)
        #expect(ByteSize.parse("1.5G") == 3 << 29)
        #expect(ByteSize.parse("1000000") == 1_000_000)
        #expect(ByteSize.parse("2 GB") == 2_000_000_000)
        for bad in ["nanGiB", "infGiB", "-1GiB", "-5", "1e400GiB", "99999999999GiB", "GiB", "1.2.3MiB", "0x10MiB", "lots"] {
            #expect(ByteSize.parse(bad) == nil, "\(bad)")
        }
        var configuration = RunConfiguration(inputs: ["in"], output: "out")
        configuration.maxMemory = 1 << 20
        #expect(throws: PipelineError.self) { try configuration.validate() }
    }

    @Test("an image file larger than --max-memory allows is an error row, not read")
    func oversizedImageFile() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data([UInt8](repeating: 10, count: 48)).write(to: URL(fileURLWithPath: Self.path(directory, "input/a.png")))
        // 64 MiB of budget leaves ~5.3 MiB for one chunk of input.
        // Sparse: 6 MiB that cost nothing on disk.
        let big = Self.path(directory, "input/b.png")
        try #require(FileManager.default.createFile(atPath: big, contents: nil))
        try #require(truncate(big, 6 << 20) == 0)
        let report = try PipelineTests.run(directory, strategy: .streaming) { $0.maxMemory = MemoryPlan.minimumBytes }
        #expect(report.images == 2)
        #expect(report.imagesFailed == 1)
        let errors = try ParquetFileReader(path: Self.path(directory, "output/_errors/images-00000.parquet")).readRows(rowGroup: 0)
        guard case let .string(reason)? = errors.first?[3].value else { Issue.record("no error row"); return }
        #expect(reason.contains("--max-memory"))
        #expect(errors.first?[2].value == .string("b.png"))
    }
}

extension OutputTruthTests {
    @Test("an id column with fewer values than the image column fails its unit (no crash, no part)", arguments: strategies)
    func shortIDColumn(_ strategy: RunConfiguration.Strategy) throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try ParquetFileWriter(path: Self.path(directory, "input/short-ids.parquet"),
                                           fields: [.primitive(name: "image", type: .byteArray, nullable: false), .string("name", nullable: false)])
        let good = [UInt8](repeating: 10, count: 48)
        // Two honest row groups (4 rows, then 3); the footer is then rewritten so that the first row group's
        // name column is the second's chunk: 4 images, 3 names.
        try writer.writeRowGroup(rows: 4, columns: [.required(.byteArray(BinaryValues([good, good, good, good]))),
                                                    .required(.byteArray(BinaryValues(strings: ["a", "b", "c", "d"])))])
        try writer.writeRowGroup(rows: 3, columns: [.required(.byteArray(BinaryValues([good, good, good]))),
                                                    .required(.byteArray(BinaryValues(strings: ["e", "f", "g"])))])
        try writer.close()
        try Self.rewriteFooter(Self.path(directory, "input/short-ids.parquet")) {
            $0.rowGroups[0].columns[1] = $0.rowGroups[1].columns[1]
            $0.rowGroups.removeLast()
            $0.numRows = 4
        }
        let report = try PipelineTests.run(directory, strategy: strategy) { $0.idColumn = "name" }
        #expect(report.unitsFailed.count == 1, "\(strategy)")
        #expect(report.unitsFailed.values.first?.contains("name") == true, "\(report.unitsFailed)")
        #expect(!report.succeeded)
        #expect(!Self.exists(Self.path(directory, "output"), "short-ids.parquet"))
        #expect(!Self.exists(Self.path(directory, "output"), "_SUCCESS"))
    }
}

extension OutputTruthTests {
    @Test("tensor rows larger than --max-memory's share for one chunk fail their unit by name, before reading")
    func oversizedTensorRows() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-truth-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var generator = DatasetGenerator(images: 1)
        generator.rowsPerFile = 1
        (generator.height, generator.width) = (1500, 1500)  // 6.75 MB a row; 64 MiB leaves ~5.3 MB a chunk
        _ = try generator.write(to: Self.path(directory, "input"))
        let report = try PipelineTests.run(directory, strategy: .streaming) { $0.maxMemory = MemoryPlan.minimumBytes }
        #expect(report.unitsFailed.count == 1)
        #expect(report.unitsFailed.values.first?.contains("raise --max-memory") == true, "\(report.unitsFailed)")
        let fits = try PipelineTests.run(directory, strategy: .streaming, output: "fits") { $0.maxMemory = 256 << 20 }
        #expect(fits.succeeded && fits.images == 1, "\(fits.unitsFailed) \(fits.imagesFailed)")
    }
}
