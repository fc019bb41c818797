import Foundation
import Inference
@testable import ONNX

/// The models and ONNX Runtime outputs of Tests/Fixtures/make_onnx_fixtures.py.
enum ONNXFixtures {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let small = fixtures.appendingPathComponent("onnx")
    /// Generated on demand (--zoo; needs torch and onnxruntime), never committed.
    static let zoo = fixtures.appendingPathComponent("generated/onnx-zoo")
    /// EfficientNet-Lite0 with real weights (make_efficientnet_lite0.py), never committed.
    static let lite0 = fixtures.appendingPathComponent("generated/efficientnet-lite0")

    /// Whether `make_onnx_fixtures.py --zoo` ran (its last file is there).
    static var zooGenerated: Bool {
        FileManager.default.fileExists(atPath: zoo.appendingPathComponent("densenet121_eval_ort.npy").path)
    }

    /// SLUICE_REQUIRE_ZOO=1 (CI, which generates the zoo): its tests fail instead of skipping where files are missing.
    static var zooRequired: Bool { ProcessInfo.processInfo.environment["SLUICE_REQUIRE_ZOO"] == "1" }

    static func path(_ name: String) -> String { small.appendingPathComponent(name).path }

    static func tinyProto(opset: Int = 17) throws -> Onnx_ModelProto {
        try Onnx_ModelProto(serializedBytes: Data(contentsOf: small.appendingPathComponent("tiny_opset\(opset).onnx")))
    }

    /// A fresh temporary folder.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `model` on `inputPath` in fp32 and compares with ONNX Runtime's output in `referencePath`:
    /// the largest |Δ| relative to the largest |reference value|.
    static func compare(_ model: ONNXModel, input inputPath: String, reference referencePath: String,
                        batchSize: Int = 4) throws -> (maxDelta: Float, maxReference: Float) {
        let input = try NumpyFile.read(path: inputPath)
        let compiled = try OneDNNBackend(threads: 2).compile(model.graph, batchSize: batchSize, precision: .fp32)
        let actual = try compiled.run(input).floats()
        let expected = try NumpyFile.read(path: referencePath).floats()
        guard actual.count == expected.count else { return (.infinity, 0) }
        let delta = zip(actual, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        return (delta, expected.reduce(Float(0)) { max($0, abs($1)) })
    }
}
