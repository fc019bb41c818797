import Foundation
import Testing

/// `sluice run --model FILE.onnx`: the committed tiny ONNX classifier (Tests/Fixtures/onnx) through the whole
/// pipeline, with preprocessing sized for its 32×32 input.
@Suite("sluice run with an ONNX model, as a process", .serialized)
struct ONNXCommandLineTests {
    static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/onnx/tiny_opset17.onnx").path

    @Test func runsAnONNXModel() throws {
        let root = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let input = (root as NSString).appendingPathComponent("in"), output = (root as NSString).appendingPathComponent("out")
        try CommandLineTests.gen(input, images: 8, rowsPerFile: 8)
        let process = try CommandLineTests.run(["run", "--input", input, "--output", output, "--model", Self.tiny,
                                                "--resize", "32", "--crop", "32", "--batch-size", "4", "--no-progress"])
        #expect(process.terminationStatus == 0)
        #expect(try CommandLineTests.predictionRows(output).count == 8)
    }

    /// Preprocessing that does not make the model's input stops the run before any data is read.
    @Test func refusesPreprocessingOfAnotherShape() throws {
        let root = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let input = (root as NSString).appendingPathComponent("in"), output = (root as NSString).appendingPathComponent("out")
        try CommandLineTests.gen(input, images: 4, rowsPerFile: 4)
        let (status, message) = try Self.runCapturingErrors(["run", "--input", input, "--output", output, "--model", Self.tiny, "--no-progress"])
        #expect(status != 0)
        #expect(message.contains("the model takes [3, 32, 32], preprocessing makes [3, 224, 224]"))
    }

    @Test func refusesWeightsBesideAnONNXModel() throws {
        let (status, message) = try Self.runCapturingErrors(["predict", "--model", Self.tiny, "--weights", "w.safetensors", "x.npy"])
        #expect(status != 0)
        #expect(message.contains("an ONNX model carries its own weights"))
    }

    // MARK: the preprocessing sidecar (model.preprocess.json)

    /// A copy of the tiny model as `dir/model.onnx`, with `sidecar` (JSON text) as `dir/model.preprocess.json`,
    /// and 4 generated images under `dir/in`.
    static func modelWithSidecar(_ sidecar: String?) throws -> (root: String, model: String, input: String, output: String) {
        let root = try CommandLineTests.temporaryDirectory()
        let model = (root as NSString).appendingPathComponent("model.onnx")
        try FileManager.default.copyItem(atPath: tiny, toPath: model)
        if let sidecar {
            try Data(sidecar.utf8).write(to: URL(fileURLWithPath: (root as NSString).appendingPathComponent("model.preprocess.json")))
        }
        let input = (root as NSString).appendingPathComponent("in"), output = (root as NSString).appendingPathComponent("out")
        try CommandLineTests.gen(input, images: 4, rowsPerFile: 4)
        return (root, model, input, output)
    }

    static func parts(_ output: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).filter { $0.hasSuffix(".parquet") }
    }

    /// The sidecar beside the model sizes the preprocessing: no flags needed, and the run says where it came from.
    @Test func sidecarBesideTheModelSetsThePreprocessing() throws {
        let t = try Self.modelWithSidecar(#"{"resize": 36, "crop": [32, 32], "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "interpolation": "bilinear", "layout": "NCHW", "channel_order": "rgb"}"#)
        defer { try? FileManager.default.removeItem(atPath: t.root) }
        let (status, message) = try Self.runCapturingErrors(["run", "--input", t.input, "--output", t.output, "--model", t.model,
                                                             "--batch-size", "4", "--no-progress"])
        #expect(status == 0, "\(message)")
        #expect(message.contains("preprocessing from \(t.root)/model.preprocess.json: resize 36 (shorter side), crop 32×32, mean [0.5, 0.5, 0.5]"))
        #expect(try CommandLineTests.predictionRows(t.output).count == 4)
    }

    /// A flag given on the command line wins over the sidecar's setting, and the line says so.
    @Test func flagsOverrideTheSidecar() throws {
        let t = try Self.modelWithSidecar(#"{"resize": 32, "crop": 224}"#)
        defer { try? FileManager.default.removeItem(atPath: t.root) }
        let (status, message) = try Self.runCapturingErrors(["run", "--input", t.input, "--output", t.output, "--model", t.model,
                                                             "--crop", "32", "--batch-size", "4", "--no-progress"])
        #expect(status == 0, "\(message)")
        #expect(message.contains("model.preprocess.json, overridden by --crop: resize 32 (shorter side), crop 32×32"))
    }

    /// --preprocess-config names a sidecar anywhere (here one that is not beside the model).
    @Test func explicitPreprocessConfig() throws {
        let t = try Self.modelWithSidecar(nil)
        defer { try? FileManager.default.removeItem(atPath: t.root) }
        let config = (t.root as NSString).appendingPathComponent("elsewhere.json")
        try Data(#"{"resize": "32", "crop": "32x32", "divisor": 255}"#.utf8).write(to: URL(fileURLWithPath: config))
        let (status, message) = try Self.runCapturingErrors(["run", "--input", t.input, "--output", t.output, "--model", t.model,
                                                             "--preprocess-config", config, "--batch-size", "4", "--no-progress"])
        #expect(status == 0, "\(message)")
        #expect(message.contains("preprocessing from \(config): resize 32 (shorter side), crop 32×32"))
    }

    @Test("a sidecar with an unknown key or a bad value is refused, naming the file and the key", arguments: [
        (#"{"resize": 32, "crop": 32, "scale": 0.5}"#, #"key "scale": unknown key"#),
        (#"{"crop": 32, "mean": [0.5, 0.5]}"#, #"key "mean": must be three numbers [R, G, B], got [0.5, 0.5]"#),
        (#"{"crop": 32, "std": [0.2, 0, 0.2]}"#, #"key "std": must be non-zero"#),
        (#"{"crop": "32y32"}"#, #"key "crop": must be N, "HxW", [H, W] or "none", got "32y32""#),
        (#"{"crop": 0}"#, #"key "crop": must be a whole number of pixels in 1...65536, got 0"#),
        (#"{"crop": 32, "channel_order": "bgr"}"#, #"key "channel_order": Sluice feeds channels in RGB order; got "bgr""#),
        (#"{"crop": 32, "interpolation": "nearest"}"#, #"key "interpolation": Sluice resizes with antialiased bilinear"#),
        (#"{"crop": 32, "layout": "nhwc"}"#, #"key "layout": Sluice feeds models NCHW float32; got "nhwc""#),
        (#"{"resize": [32, 32], "max_size": 64}"#, #"key "max_size": applies only to a shorter-side resize"#),
        (#"{"divisor": true}"#, #"key "divisor": must be a finite non-zero number (255 = ToTensor), got true"#),
        (#"[32, 32]"#, "must be a JSON object of preprocessing settings, not an array"),
        (#"{"crop": 32"#, "not valid JSON"),
    ])
    func refusesABadSidecar(_ sidecar: String, _ expected: String) throws {
        let t = try Self.modelWithSidecar(sidecar)
        defer { try? FileManager.default.removeItem(atPath: t.root) }
        let (status, message) = try Self.runCapturingErrors(["run", "--input", t.input, "--output", t.output, "--model", t.model,
                                                             "--no-progress"])
        #expect(status != 0)
        #expect(message.contains("\(t.root)/model.preprocess.json: "), "\(message)")
        #expect(message.contains(expected), "\(message)")
        #expect(Self.parts(t.output).isEmpty)
    }

    /// A crop of the model's element count but another shape (16×64 for a 32×32 model) used to pass the
    /// element-count check and feed the model scrambled images; the shapes are compared, before any record is read.
    @Test(arguments: ["streaming", "fused", "staged"])
    func refusesACropOfTheRightSizeButTheWrongShape(_ strategy: String) throws {
        let t = try Self.modelWithSidecar(#"{"resize": 64, "crop": "16x64"}"#)
        defer { try? FileManager.default.removeItem(atPath: t.root) }
        let (status, message) = try Self.runCapturingErrors(["run", "--input", t.input, "--output", t.output, "--model", t.model,
                                                             "--strategy", strategy, "--no-progress"])
        #expect(status != 0)
        #expect(message.contains("the model takes [3, 32, 32], preprocessing makes [3, 16, 64]: set the crop to the model's 32 (--crop 32"), "\(message)")
        #expect(Self.parts(t.output).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: (t.output as NSString).appendingPathComponent("_staging")))
    }

    /// predict checks the model's input against the crop before it reads an image.
    @Test func predictRefusesAnotherInputShape() throws {
        let (status, message) = try Self.runCapturingErrors(["predict", "--model", Self.tiny, "--crop", "16x64", "no-such-image.jpg"])
        #expect(status != 0)
        #expect(message.contains("the model takes [3, 32, 32], preprocessing makes [3, 16, 64]"), "\(message)")
    }

    static func runCapturingErrors(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.sluice)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
