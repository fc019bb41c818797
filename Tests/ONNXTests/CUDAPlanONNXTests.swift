import Foundation
import Inference
import Testing
@testable import ONNX

/// The CUDA lowering of imported ONNX models (no GPU): every model lowers, or fails with the typed error
/// naming one of its nodes.
struct CUDAPlanONNXTests {
    static let imagenet = InputNormalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], divisor: 255)

    /// The lowering's result for `model`: nil when it lowered (checked for consistency), else the error.
    static func lower(_ model: ONNXModel, precision: Precision = .fp16) throws -> CUDAPlanError? {
        do {
            let plan = try CUDAPlan.build(graph: model.graph, batchSize: 4, precision: precision,
                                          inputEncoding: .uint8NHWC(imagenet))
            #expect(plan.tensor(plan.output).dtype == .float32)
            #expect(plan.tensor(plan.output).shape.elementCount == 4 * model.graph.outputShapeCount())
            #expect(plan.tensors.allSatisfy { $0.layout == .nhwc })
            #expect(plan.launches.map(\.step).last == plan.steps.count - 1)
            print("\(model.graph.nodes.first?.name ?? "?")…: \(plan.steps.count) steps, \(plan.launches.count) launches, "
                  + "arena \(plan.arenaByteCount >> 10) KiB at batch 4, weights \(plan.weightsByteCount >> 10) KiB")
            return nil
        } catch let error as CUDAPlanError {
            if case .unsupportedNode(let node, _, _) = error.reason {
                #expect(model.graph.nodes.contains { $0.name == node } || node == "input", "\(error)")
            }
            return error
        }
    }

    /// torchvision's zoo lowers completely: DenseNet's unfolded batch-norms and concatenations, MobileNet's
    /// and EfficientNet's depthwise convolutions, swish, hard-swish and squeeze-and-excitation, RegNet's groups.
    @Test(.enabled(if: ONNXFixtures.zooGenerated || ONNXFixtures.zooRequired, "run Tests/Fixtures/make_onnx_fixtures.py --zoo first"),
          arguments: ONNXParityTests.zooModels)
    func zooModelLowers(name: String) throws {
        let path = ONNXFixtures.zoo.appendingPathComponent("\(name).onnx").path
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("\(name).onnx is missing (SLUICE_REQUIRE_ZOO=1): run Tests/Fixtures/make_onnx_fixtures.py --zoo")
            return
        }
        let model = try ONNXModel.load(path: path)
        let error = try Self.lower(model)
        #expect(error == nil, "\(name): \(error.map(String.init(describing:)) ?? "")")
    }

    /// EfficientNet-Lite0 with real weights (ReLU6, depthwise convolutions, no squeeze-and-excitation).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: ONNXFixtures.lite0.appendingPathComponent("efficientnet_lite0.onnx").path),
                   "run Tests/Fixtures/make_efficientnet_lite0.py first"))
    func efficientNetLite0Lowers() throws {
        let model = try ONNXModel.load(path: ONNXFixtures.lite0.appendingPathComponent("efficientnet_lite0.onnx").path)
        let error = try Self.lower(model)
        #expect(error == nil, "\(error.map(String.init(describing:)) ?? "")")
    }

    /// The committed tiny model (every imported operator; logits and their softmax concatenated) lowers in
    /// every CUDA precision.
    @Test(arguments: [Precision.fp16, .bf16, .tf32, .fp32])
    func tinyModelLowers(precision: Precision) throws {
        let model = try ONNXModel.load(path: ONNXFixtures.path("tiny_opset17.onnx"))
        let error = try Self.lower(model, precision: precision)
        #expect(error == nil, "\(error.map(String.init(describing:)) ?? "")")
    }
}

extension Graph {
    /// Elements of one sample's output.
    func outputShapeCount() -> Int {
        ((try? inferShapes())?[output] ?? []).reduce(1, *)
    }
}
