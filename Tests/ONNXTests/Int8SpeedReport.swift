import Foundation
import Inference
import Testing
@testable import ONNX

/// Not a test: model-only images/s, fp32 and int8, 2 threads, batch 16 (SLUICE_INT8_TIMING=1 swift test
/// --filter Int8SpeedReport). oneDNN does the work, so a debug build measures it too.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["SLUICE_INT8_TIMING"] == "1"))
struct Int8SpeedReport {
    static func imagesPerSecond(_ model: any CompiledModel, _ input: Tensor, seconds: Double) throws -> Double {
        _ = try model.run(input)
        var images = 0
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            _ = try model.run(input)
            images += input.shape[0]
        }
        return Double(images) / Date().timeIntervalSince(start)
    }

    @Test(arguments: ["resnet50-seeded"] + ONNXParityTests.zooModels + ["efficientnet_lite0"])
    func report(name: String) throws {
        let dir = ONNXFixtures.zoo
        let graph: Graph
        if name == "resnet50-seeded" {
            graph = try ResNet.build(.resnet50, weights: SeededWeights(seed: 1))
        } else if name == "efficientnet_lite0" {
            graph = try ONNXModel.load(path: ONNXFixtures.lite0.appendingPathComponent("efficientnet_lite0.onnx").path).graph
        } else {
            graph = try ONNXModel.load(path: dir.appendingPathComponent("\(name).onnx").path).graph
        }
        let all = try NumpyFile.read(path: dir.appendingPathComponent("resnet18_eval.npy").path).floats()
        let input = try Tensor(shape: [16, 3, 224, 224], values: Array(all[0..<(16 * 3 * 224 * 224)]))
        let calibration = try NumpyFile.read(path: dir.appendingPathComponent("resnet18_calibration.npy").path)
        let seconds = Double(ProcessInfo.processInfo.environment["SLUICE_INT8_SECONDS"] ?? "") ?? 4
        var line = "\(name):"
        for precision in [Precision.fp32, .int8] {
            do {
                let model = try OneDNNBackend(threads: 2, calibration: precision == .int8 ? calibration : nil)
                    .compile(graph, batchSize: 16, precision: precision)
                line += String(format: " %@ %.1f img/s", "\(precision)", try Self.imagesPerSecond(model, input, seconds: seconds))
                if ProcessInfo.processInfo.environment["SLUICE_INT8_DISPATCH"] == "1", let m = model as? OneDNNModel {
                    for r in m.dispatchReport { print("  \(name) \(precision) \(r.layer) \(r.kind) \(r.implementation) \(r.detail)") }
                }
            } catch {
                line += " \(precision) unsupported (\(error))"
            }
        }
        print("SPEED \(line)")
    }
}
