import Foundation
import Parquet
@testable import Pipeline
import Testing

/// `sluice run` on image columns that are plain numeric lists (pyarrow, Spark, Hugging Face `datasets`):
/// the same predictions as the same images in Ray's layout.
@Suite("Plain list image columns end to end", .serialized)
struct TensorListPipelineTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let generated = fixtures.appendingPathComponent("generated/tensor_lists")

    /// Pixel files of the generated manifest (uint8 delivered), and the committed Spark and datasets files.
    static let pixelFiles: [String] = {
        var names: [String] = []
        if let data = try? Data(contentsOf: generated.appendingPathComponent("manifest.json")),
           let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let files = root["files"] as? [[String: Any]] {
            names = files.filter { $0["element"] as? String == "uint8" && $0["kind"] as? String != "ray" }.compactMap { $0["name"] as? String }
        }
        return names + ["spark/spark_array_smallint.parquet", "spark/spark_array_tinyint.parquet", "spark/spark_array_int.parquet",
                        "huggingface/hf_array3d_uint8.parquet", "huggingface/hf_array3d_int16.parquet"]
    }()

    static func path(_ name: String) -> String {
        name.contains("/") ? fixtures.appendingPathComponent(name).path : generated.appendingPathComponent(name).path
    }

    /// Runs one file through the pipeline with the stand-in preprocessor and model.
    static func run(_ name: String, strategy: RunConfiguration.Strategy = .streaming,
                    configure: (inout RunConfiguration) -> Void = { _ in }) throws -> (report: JobReport, lines: [String], errors: [[ParquetValue.Field]]) {
        let directory = NSTemporaryDirectory() + "sluice-tensor-lists-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = (directory as NSString).appendingPathComponent("output")
        var configuration = RunConfiguration(inputs: [path(name)], output: output)
        configuration.strategy = strategy
        configuration.batchSize = 4
        configuration.topK = 3
        configuration.progress = false
        configuration.tuneModelLayout = false
        configuration.idColumn = "id"
        if name.hasPrefix("chw_") { configuration.tensorInput.order = .chw }
        if name == "nested_plain_uint8.parquet" || name == "ragged_list_uint8.parquet" { configuration.tensorInput.shape = [8, 8, 3] }
        configure(&configuration)
        let report = try Job(configuration: configuration, preprocessor: CropPreprocessor(), model: HashModelFactory()).run()
        // A run whose only file failed writes no output directory.
        let lines = FileManager.default.fileExists(atPath: output) ? try PipelineTests.predictions(output) : []
        let errorPart = (output as NSString).appendingPathComponent("_errors/" + (name as NSString).lastPathComponent)
        let errors = FileManager.default.fileExists(atPath: errorPart) ? try ParquetFileReader(path: errorPart).readRows(rowGroup: 0) : []
        return (report, lines, errors)
    }

    static let rayLines: Result<[String], Error> = Result { try run("ray_uint8.parquet").lines }

    @Test("the reference: Ray's layout gives one prediction per image")
    func reference() throws {
        let lines = try Self.rayLines.get()
        #expect(lines.count == 6)
        #expect(lines.allSatisfy { $0.contains("\"top_k\":[") })
    }

    @Test("every pixel layout gives exactly the predictions of Ray's layout", arguments: pixelFiles)
    func sameAsRay(_ name: String) throws {
        let ray = try Self.rayLines.get()
        let (report, lines, _) = try Self.run(name)
        #expect(report.unitsFailed.isEmpty, "\(report.unitsFailed)")
        #expect(lines.count == ray.count)
        var errors = 0
        for (line, want) in zip(lines, ray) {
            if line.contains("\"top_k\":null") { errors += 1 } else { #expect(line == want, "\(name)") }
        }
        let expectedErrors = name.hasPrefix("paged_") || name.hasPrefix("ragged_") ? 2 : name == "nested_hf_bent.parquet" ? 1 : 0
        #expect(errors == expectedErrors, "\(name)")
        #expect(report.imagesFailed == expectedErrors)
    }

    @Test("int16 lists give Ray's predictions with every strategy", arguments: [RunConfiguration.Strategy.fused, .staged])
    func strategies(_ strategy: RunConfiguration.Strategy) throws {
        let (report, lines, _) = try Self.run("list_int16_dictionary_none.parquet", strategy: strategy)
        #expect(report.imagesFailed == 0)
        #expect(lines == (try Self.rayLines.get()))
    }

    @Test("rows of another length than the inferred shape are error rows that say so")
    func raggedRows() throws {
        let (report, _, errors) = try Self.run("ragged_list_uint8.parquet")
        #expect(report.imagesFailed == 2)
        #expect(errors.map { $0[1].value } == [.int(3), .int(5)])
        #expect(errors.count == 2)
        let reason = errors.first.map { "\($0[3].value)" } ?? ""
        #expect(reason.contains("does not have 192 values of shape [8, 8, 3]"))
    }

    @Test("a length no square image fits fails the file with a message that suggests --image-shape; the option fixes it")
    func ambiguousShape() throws {
        let (report, _, _) = try Self.run("nonsquare_list_uint8.parquet")
        let message = try #require(report.unitsFailed.values.first)
        #expect(message.contains("no square image of 1 or 3 channels holds 120 values"))
        #expect(message.contains("pass --image-shape H,W,C"))
        let given = try Self.run("nonsquare_list_uint8.parquet") { $0.tensorInput.shape = [8, 5, 3] }
        #expect(given.report.unitsFailed.isEmpty)
        #expect(given.lines.count == 6)
    }

    @Test("preprocessed float tensors of the model's input shape are fed to the model as they are")
    func preprocessed() throws {
        let name = "preprocessed_small_float32.parquet"
        let (report, lines, _) = try Self.run(name) { $0.tensorInput.preprocessed = true }
        #expect(report.imagesFailed == 0)
        let tensors = try TensorColumnReader(file: try ParquetFileReader(path: Self.path(name)), column: "image", shape: [3, 4, 4])
        let batch = try #require(try tensors.next(targetRows: 64))
        #expect(batch.rowCount == lines.count)
        for (row, line) in lines.enumerated() {
            var logits = [Float](repeating: 0, count: 10)
            try batch.row(row).withMemoryRebound(to: Float.self) { input in
                try logits.withUnsafeMutableBufferPointer { try HashModel().classify(input, count: 1, logits: $0) }
            }
            let top = logits.indices.max { logits[$0] < logits[$1] } ?? -1
            #expect(line.hasPrefix("{\"id\":\"img\(row)\",\"top_k\":[\(top),"), "\(line)")
        }
        // Detected from the dtype and shape without --preprocessed: the same predictions.
        #expect(try Self.run(name).lines == lines)
    }

    @Test("float tensors that are not normalised are error rows; of another shape than the model's, the file fails")
    func preprocessedChecks() throws {
        let (report, _, errors) = try Self.run("unnormalised_small_float32.parquet")
        #expect(report.imagesFailed == 6)
        #expect(errors.count == 6)
        let reason = errors.first.map { "\($0[3].value)" } ?? ""
        #expect(reason.contains("values up to 200.0, which do not look normalised"))
        let wrong = try Self.run("preprocessed_list_float32.parquet")
        #expect(wrong.report.unitsFailed.values.first?.contains("shape [3, 16, 16] (CHW), but the model takes [3, 4, 4]") == true)
        let ints = try Self.run("list_uint8_plain_snappy.parquet") { $0.tensorInput.preprocessed = true }
        #expect(ints.report.unitsFailed.values.first?.contains("--preprocessed, but column 'image' holds uint8 values") == true)
    }

    @Test("inspect's report says what run does with each candidate column")
    func report() throws {
        let lines = ImageColumnReport.lines(try ParquetFileReader(path: Self.path("list_int16_plain_zstd.parquet")), options: TensorInputOptions())
        #expect(lines == ["image column image: list<int16>, stored [8, 8, 3] hwc; shape inferred from the row length; read as 8×8×3 uint8 pixels, then preprocessed [run's default image column]"])
        let hf = ImageColumnReport.lines(try ParquetFileReader(path: Self.path("huggingface/hf_array3d_uint8.parquet")), options: TensorInputOptions())
        #expect(hf.first?.contains("shape from the file's metadata") == true)
        let floats = ImageColumnReport.lines(try ParquetFileReader(path: Self.path("preprocessed_list_float32.parquet")),
                                             options: TensorInputOptions(modelInput: [3, 224, 224]))
        #expect(floats.first?.contains("run cannot use it as it is") == true)
        let bad = ImageColumnReport.lines(try ParquetFileReader(path: Self.path("nonsquare_list_uint8.parquet")), options: TensorInputOptions())
        #expect(bad.first?.contains("pass --image-shape") == true)
    }
}
