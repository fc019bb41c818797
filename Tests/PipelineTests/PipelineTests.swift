import Foundation
import ObjectStore
import Parquet
@testable import Pipeline
import Testing

@Suite("The pipeline end to end", .serialized)
struct PipelineTests {
    /// A temporary directory with `files` Ray-layout files of `rows` 6×5 images each.
    static func dataset(files: Int = 3, rows: Int = 25) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-pipeline-\(UUID().uuidString)").path
        var generator = DatasetGenerator(images: files * rows)
        generator.rowsPerFile = rows
        generator.height = 6
        generator.width = 5
        generator.seed = 3
        _ = try generator.write(to: (directory as NSString).appendingPathComponent("input"))
        return directory
    }

    static func run(_ directory: String, strategy: RunConfiguration.Strategy, output: String = "output",
                    model: HashModelFactory = HashModelFactory(), configure: (inout RunConfiguration) -> Void = { _ in }) throws -> JobReport {
        var configuration = RunConfiguration(inputs: [(directory as NSString).appendingPathComponent("input")],
                                             output: (directory as NSString).appendingPathComponent(output))
        configuration.strategy = strategy
        configuration.batchSize = 8
        configuration.topK = 3
        configuration.progress = false
        configuration.tuneModelLayout = false  // one copy unless a test asks: failure counts are per copy
        configure(&configuration)
        return try Job(configuration: configuration, preprocessor: CropPreprocessor(), model: model).run()
    }

    /// Every prediction row of an output directory, as JSON lines, in part order.
    static func predictions(_ output: String) throws -> [String] {
        let parts = try FileManager.default.contentsOfDirectory(atPath: output).filter { $0.hasSuffix(".parquet") }.sorted()
        return try parts.flatMap { part -> [String] in
            let reader = try ParquetFileReader(path: (output as NSString).appendingPathComponent(part))
            return try (0..<reader.rowGroupCount).flatMap { try reader.readRows(rowGroup: $0).map(JSONRendering.render(row:)) }
        }
    }

    /// The expected top classes, computed directly from the generator and the stand-ins.
    static func expectedTopClass(image index: Int) throws -> Int {
        let images = SyntheticImages(seed: 3, height: 6, width: 5)
        var pixels = [UInt8](repeating: 0, count: images.bytesPerImage)
        pixels.withUnsafeMutableBufferPointer { images.render(index: index, into: $0) }
        var input = [Float](repeating: 0, count: 48)
        try pixels.withUnsafeBytes { raw in
            try input.withUnsafeMutableBufferPointer {
                try CropPreprocessor.Worker().preprocess(.pixels(raw, shape: [6, 5, 3]), into: $0)
            }
        }
        var logits = [Float](repeating: 0, count: 10)
        try input.withUnsafeBufferPointer { i in try logits.withUnsafeMutableBufferPointer { try HashModel().classify(i, count: 1, logits: $0) } }
        return logits.indices.max { logits[$0] < logits[$1] }!
    }

    @Test("every strategy gives the same, correct predictions", arguments: RunConfiguration.Strategy.allCases.filter { $0 != .perRequest })
    func strategiesAgree(_ strategy: RunConfiguration.Strategy) throws {
        let directory = try Self.dataset()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let report = try Self.run(directory, strategy: strategy)
        #expect(report.images == 75)
        #expect(report.imagesFailed == 0)
        #expect(report.units == 3)
        let output = (directory as NSString).appendingPathComponent("output")
        #expect(FileManager.default.fileExists(atPath: (output as NSString).appendingPathComponent("_SUCCESS")))
        #expect(FileManager.default.fileExists(atPath: (output as NSString).appendingPathComponent("_summary.json")))
        let lines = try Self.predictions(output)
        #expect(lines.count == 75)
        for (index, line) in lines.enumerated() {
            let file = index / 25, row = index % 25
            #expect(line.hasPrefix("{\"id\":\"part-\(String(format: "%05d", file)).parquet:\(row)\",\"top_k\":[\(try Self.expectedTopClass(image: index)),"), "\(line)")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: output).filter { $0.hasPrefix(".tmp") || $0 == "_staging" }
        #expect(leftovers.isEmpty)
    }

    @Test("streaming with two model copies: every row once, in order, with the right prediction")
    func modelReplicas() throws {
        let directory = try Self.dataset()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let report = try Self.run(directory, strategy: .streaming) {
            $0.modelThreads = 2
            $0.modelReplicas = 2
            $0.batchSize = 3
        }
        #expect(report.images == 75)
        #expect(report.stages.first { $0.stage == "infer" }?.threads == 2)
        let lines = try Self.predictions((directory as NSString).appendingPathComponent("output"))
        #expect(lines.count == 75)
        for (index, line) in lines.enumerated() {
            let file = index / 25, row = index % 25
            #expect(line.hasPrefix("{\"id\":\"part-\(String(format: "%05d", file)).parquet:\(row)\",\"top_k\":[\(try Self.expectedTopClass(image: index)),"), "\(line)")
        }
        // A copy that fails stops the job (the other copy and every stage too) with the error.
        let failing = try Self.dataset()
        defer { try? FileManager.default.removeItem(atPath: failing) }
        #expect(throws: (any Error).self) {
            try Self.run(failing, strategy: .streaming, model: HashModelFactory(batchesBeforeFailure: 2)) {
                $0.modelThreads = 2
                $0.modelReplicas = 2
            }
        }
    }

    @Test("inputs reached through symbolic links count their targets' bytes")
    func symlinkedInputs() throws {
        let directory = try Self.dataset(files: 2)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = (directory as NSString).appendingPathComponent("input")
        let links = (directory as NSString).appendingPathComponent("links")
        try FileManager.default.createDirectory(atPath: links, withIntermediateDirectories: true)
        var targetBytes: Int64 = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: input) where name.hasSuffix(".parquet") {
            let target = (input as NSString).appendingPathComponent(name)
            targetBytes += Int64(try #require(FileManager.default.attributesOfItem(atPath: target)[.size] as? Int))
            try FileManager.default.createSymbolicLink(atPath: (links as NSString).appendingPathComponent(name), withDestinationPath: target)
        }
        let units = try InputDiscovery.units([links], storage: ObjectStorage())
        #expect(units.count == 2)
        #expect(targetBytes > 1000)
        #expect(units.reduce(0) { $0 + $1.bytes } == targetBytes)
    }

    @Test("a run that dies midway resumes: committed parts are skipped, nothing is lost or duplicated")
    func resume() throws {
        let directory = try Self.dataset(files: 4, rows: 10)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Batches of 8 over files of 10 rows: the model fails on its 4th batch, after the first two files.
        #expect(throws: (any Error).self) {
            try Self.run(directory, strategy: .fused, model: HashModelFactory(batchesBeforeFailure: 4))
        }
        let output = (directory as NSString).appendingPathComponent("output")
        let partial = try FileManager.default.contentsOfDirectory(atPath: output).filter { $0.hasSuffix(".parquet") }
        #expect(partial.count == 2)
        #expect(!FileManager.default.fileExists(atPath: (output as NSString).appendingPathComponent("_SUCCESS")))
        let report = try Self.run(directory, strategy: .streaming)
        #expect(report.unitsSkipped == 2)
        #expect(report.units == 2)
        let lines = try Self.predictions(output)
        #expect(lines.count == 40)
        #expect(Set(lines).count == 40)
        let reference = try Self.dataset(files: 4, rows: 10)
        defer { try? FileManager.default.removeItem(atPath: reference) }
        _ = try Self.run(reference, strategy: .streaming)
        #expect(lines == (try Self.predictions((reference as NSString).appendingPathComponent("output"))))
    }

    @Test("bad records become error rows; a bad file is reported by name and the rest go on")
    func badInput() throws {
        let directory = try Self.dataset(files: 2, rows: 10)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = (directory as NSString).appendingPathComponent("input")
        try Data("this is not a Parquet file at all".utf8).write(to: URL(fileURLWithPath: (input as NSString).appendingPathComponent("broken.parquet")))
        // An encoded-image file: two good 48-byte payloads, a corrupt one, and a null.
        let writer = try ParquetFileWriter(path: (input as NSString).appendingPathComponent("encoded.parquet"),
                                           fields: [.primitive(name: "image", type: .byteArray, nullable: true)])
        let good = [UInt8](repeating: 10, count: 48), corrupt = [UInt8](repeating: 0xFF, count: 48)
        try writer.writeRowGroup(rows: 4, columns: [.optional([good, corrupt, nil, good]) { .byteArray(BinaryValues($0)) }])
        try writer.close()

        for strategy in [RunConfiguration.Strategy.streaming, .fused, .staged] {
            let output = "output-\(strategy.rawValue)"
            let report = try Self.run(directory, strategy: strategy, output: output)
            #expect(report.unitsFailed.keys.contains { $0.hasSuffix("broken.parquet") }, "\(strategy)")
            #expect(report.unitsFailed.first?.value.contains("PAR1") == true)
            #expect(report.images == 24)
            #expect(report.imagesFailed == 2)
            #expect(!report.succeeded)
            let outputPath = (directory as NSString).appendingPathComponent(output)
            let errors = try ParquetFileReader(path: (outputPath as NSString).appendingPathComponent("_errors/encoded.parquet")).readRows(rowGroup: 0)
            #expect(errors.map { $0[1].value } == [.int(1), .int(2)])
            #expect(errors[0][3].value == .string("corrupt test image"))
            #expect(errors[1][3].value == .string("the image is null"))
            let encoded = try ParquetFileReader(path: (outputPath as NSString).appendingPathComponent("encoded.parquet")).readRows(rowGroup: 0)
            #expect(encoded.map { $0[1].value == .null } == [false, true, true, false])
        }
        // With --on-error fail the first bad thing stops the job.
        #expect(throws: (any Error).self) {
            try Self.run(directory, strategy: .streaming, output: "output-strict") { $0.onError = .fail }
        }
    }
}
