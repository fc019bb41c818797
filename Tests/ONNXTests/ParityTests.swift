import Foundation
import Inference
import Testing
@testable import ONNX

/// Sluice against ONNX Runtime on the same ONNX files and inputs (fp32: max |Δ| ≤ 1e-4 of the largest
/// reference value).
@Suite(.serialized)
struct ONNXParityTests {
    /// The tiny CNN uses every lowered operator; opset 11 and 17 exports differ (Clip, Squeeze, HardSwish...).
    @Test(arguments: [11, 17])
    func tinyModelMatchesONNXRuntime(opset: Int) throws {
        let model = try ONNXModel.load(path: ONNXFixtures.path("tiny_opset\(opset).onnx"))
        #expect(model.opset == opset)
        let (delta, largest) = try ONNXFixtures.compare(model, input: ONNXFixtures.path("tiny_input.npy"),
                                                        reference: ONNXFixtures.path("tiny_opset\(opset)_ort.npy"))
        print("tiny opset \(opset): max |Δ| \(delta) of max |value| \(largest)")
        #expect(largest > 0.1)
        #expect(delta <= 1e-4 * largest)
    }

    /// bf16 runs every operator too; its logits agree on the top class and within bf16's precision.
    @Test func tinyModelInBF16AgreesOnTop1() throws {
        try checkTinyModel(precision: .bf16, calibrated: false, tolerance: 0.05 * 1.5)
    }

    /// int8 runs every operator the importer lowers (mixed precision where oneDNN has no int8 kernel):
    /// calibrated on the same three inputs, the logits stay close to ONNX Runtime's and the top classes agree.
    @Test func tinyModelInInt8RunsEveryOperator() throws {
        try checkTinyModel(precision: .int8, calibrated: true, tolerance: 0.1 * 1.5)
    }

    /// The committed tiny model in `precision` against ONNX Runtime's fp32 outputs: the same top class per row,
    /// and every output (logits, then their softmax) within `tolerance`.
    private func checkTinyModel(precision: Precision, calibrated: Bool, tolerance: Float) throws {
        let model = try ONNXModel.load(path: ONNXFixtures.path("tiny_opset17.onnx"))
        let input = try NumpyFile.read(path: ONNXFixtures.path("tiny_input.npy"))
        let expected = try NumpyFile.read(path: ONNXFixtures.path("tiny_opset17_ort.npy")).floats()
        let backend = OneDNNBackend(threads: 1, calibration: calibrated ? input : nil)
        let actual = try backend.compile(model.graph, batchSize: 4, precision: precision).run(input).floats()
        #expect(actual.count == expected.count)
        let width = 20, classes = 10  // logits, then their softmax
        for row in 0..<(expected.count / width) {
            let a = Array(actual[(row * width)..<(row * width + classes)]), e = Array(expected[(row * width)..<(row * width + classes)])
            #expect(a.indices.max { a[$0] < a[$1] } == e.indices.max { e[$0] < e[$1] })
        }
        let delta = zip(actual, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        #expect(delta <= tolerance, "\(precision): max |Δ| \(delta)")
    }

    /// Batches smaller and larger than the compiled batch size give the same rows.
    @Test func dynamicBatchRunsAnyCount() throws {
        let model = try ONNXModel.load(path: ONNXFixtures.path("tiny_opset17.onnx"))
        let input = try NumpyFile.read(path: ONNXFixtures.path("tiny_input.npy"))
        let expected = try NumpyFile.read(path: ONNXFixtures.path("tiny_opset17_ort.npy")).floats()
        let compiled = try OneDNNBackend(threads: 1).compile(model.graph, batchSize: 2, precision: .fp32)
        let actual = try compiled.run(input).floats()
        let delta = zip(actual, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        #expect(actual.count == expected.count)
        #expect(delta <= 1e-4 * 1.5)
    }

    @Test func contractComesFromTheGraph() throws {
        let model = try ONNXModel.load(path: ONNXFixtures.path("tiny_opset17.onnx"))
        #expect(model.input == ONNXTensorInfo(name: "input", elementType: "float32", shape: [nil, 3, 32, 32]))
        #expect(model.input.dynamicBatch)
        #expect(model.input.sampleShape == [3, 32, 32])
        #expect(model.output.name == "logits")
        #expect(model.output.sampleShape == [20])
    }

    /// Batch-norm folded, SiLU as one swish, activations and the residual add fused into convolutions.
    @Test func graphIsFused() throws {
        let model = try ONNXModel.load(path: ONNXFixtures.path("tiny_opset17.onnx"))
        let optimised = try GraphOptimizer.optimize(model.graph)
        var fusedActivations: [Activation] = []
        var residual = false
        for node in optimised.nodes {
            if case .conv2d(let conv) = node.operation {
                if let a = conv.activation { fusedActivations.append(a) }
                residual = residual || conv.addsResidual
            }
        }
        #expect(fusedActivations.contains(.swish))
        #expect(fusedActivations.contains(.clip(lower: 0, upper: 6)))
        #expect(fusedActivations.contains(.hardSwish))
        #expect(residual)
        // The standalone batch-norm (after a concatenation) stays; the others are folded.
        #expect(optimised.nodes.filter { $0.operation.kindName == "batch_norm" }.count == 1)
    }

    static let zooModels = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
                            "regnet_y_400mf", "densenet121"]

    /// torchvision's models with seeded weights (generated by `make_onnx_fixtures.py --zoo`, which needs torch and
    /// onnxruntime; skipped, and reported as skipped, where they were not generated; failed with SLUICE_REQUIRE_ZOO=1).
    @Test(.enabled(if: ONNXFixtures.zooGenerated || ONNXFixtures.zooRequired, "run Tests/Fixtures/make_onnx_fixtures.py --zoo first"),
          arguments: zooModels)
    func torchvisionModelMatchesONNXRuntime(name: String) throws {
        let dir = ONNXFixtures.zoo
        for file in ["\(name).onnx", "\(name)_input.npy", "\(name)_ort.npy"]
        where !FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path) {
            Issue.record("\(file) is missing (SLUICE_REQUIRE_ZOO=1): run Tests/Fixtures/make_onnx_fixtures.py --zoo")
            return
        }
        let model = try ONNXModel.load(path: dir.appendingPathComponent("\(name).onnx").path)
        let (delta, largest) = try ONNXFixtures.compare(model, input: dir.appendingPathComponent("\(name)_input.npy").path,
                                                        reference: dir.appendingPathComponent("\(name)_ort.npy").path, batchSize: 2)
        print("\(name): max |Δ| \(delta) of max |logit| \(largest) (\(delta / largest))")
        #expect(delta <= 1e-4 * largest)
    }
}
