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
