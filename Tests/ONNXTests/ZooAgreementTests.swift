import Foundation
import Inference
import Testing
@testable import ONNX

/// bf16 and int8 against ONNX Runtime's fp32 on torchvision's models (seeded weights): top-1 agreement on 20
/// inputs (16 seeded image-like, 4 real photos); int8 calibrated on 8 other inputs
/// (`make_onnx_fixtures.py --zoo` writes both sets).
@Suite(.serialized, .enabled(if: ONNXFixtures.zooGenerated || ONNXFixtures.zooRequired,
                             "run Tests/Fixtures/make_onnx_fixtures.py --zoo first"))
struct ZooAgreementTests {
    struct Agreement {
        var agreeing = 0
        var total = 0
        var maxDelta: Float = 0
        var maxReference: Float = 0
        var fraction: Double { total > 0 ? Double(agreeing) / Double(total) : 0 }
    }

    static func agreement(_ actual: [Float], _ expected: [Float], classes: Int) -> Agreement {
        var result = Agreement()
        guard classes > 0, actual.count == expected.count else { return result }
        for row in 0..<(expected.count / classes) {
            let range = (row * classes)..<((row + 1) * classes)
            let a = actual[range], e = expected[range]
            result.total += 1
            if a.indices.max(by: { a[$0] < a[$1] }) == e.indices.max(by: { e[$0] < e[$1] }) { result.agreeing += 1 }
        }
        result.maxDelta = zip(actual, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        result.maxReference = expected.reduce(Float(0)) { max($0, abs($1)) }
        return result
    }

    static let models = ONNXParityTests.zooModels + ["efficientnet_lite0"]

    /// The model, its agreement inputs, ONNX Runtime's logits for them and its calibration inputs.
    static func files(_ name: String) -> [URL] {
        let dir = ONNXFixtures.zoo
        let model = name == "efficientnet_lite0" ? ONNXFixtures.lite0.appendingPathComponent("\(name).onnx")
            : dir.appendingPathComponent("\(name).onnx")
        // Every model gets the same inputs; the file is written once per torchvision model.
        let input = dir.appendingPathComponent(name == "efficientnet_lite0" ? "resnet18_eval.npy" : "\(name)_eval.npy")
        return [model, input, dir.appendingPathComponent("\(name)_eval_ort.npy"),
                dir.appendingPathComponent("\(name)_calibration.npy")]
    }

    /// Every input's top class (MLPerf asks for ≥ 99% of the fp32 accuracy; with 20 inputs that is all of them).
    @Test(arguments: Self.models, [Precision.bf16, .int8])
    func topClassAgreesWithONNXRuntime(name: String, precision: Precision) throws {
        if let only = ProcessInfo.processInfo.environment["SLUICE_ZOO_ONLY"], !only.contains("\(name)/\(precision)") { return }
        let files = Self.files(name)
        for file in files where !FileManager.default.fileExists(atPath: file.path) {
            if name == "efficientnet_lite0" && !ONNXFixtures.zooRequired { return }  // make_efficientnet_lite0.py did not run
            Issue.record("\(file.lastPathComponent) is missing (SLUICE_REQUIRE_ZOO=1): run Tests/Fixtures/make_onnx_fixtures.py --zoo")
            return
        }
        let model = try ONNXModel.load(path: files[0].path)
        let input = try NumpyFile.read(path: files[1].path)
        let expected = try NumpyFile.read(path: files[2].path).floats()
        let calibration = precision == .int8 ? try NumpyFile.read(path: files[3].path) : nil
        let compiled = try OneDNNBackend(threads: 2, calibration: calibration).compile(model.graph, batchSize: 4, precision: precision)
        let actual = try compiled.run(input).floats()
        let result = Self.agreement(actual, expected, classes: compiled.outputShape.reduce(1, *))
        print("\(name) \(precision): top-1 agreement \(result.agreeing)/\(result.total), max |Δlogit| \(result.maxDelta) of max |logit| \(result.maxReference)")
        #expect(result.total == 20)
        #expect(result.fraction >= 0.99)
    }
}

@Suite struct ZooDispatchDump {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SLUICE_DUMP_DISPATCH"] != nil), arguments: ONNXParityTests.zooModels)
    func dump(name: String) throws {
        let dir = ONNXFixtures.zoo
        let model = try ONNXModel.load(path: dir.appendingPathComponent("\(name).onnx").path)
        let calibration = try NumpyFile.read(path: dir.appendingPathComponent("\(name)_calibration.npy").path)
        let start = Date()
        let compiled = try OneDNNBackend(threads: 2, calibration: calibration).compile(model.graph, batchSize: 4, precision: .int8)
        print("\(name): compiled in \(Date().timeIntervalSince(start)) s")
        if let m = compiled as? OneDNNModel {
            var counts: [String: Int] = [:]
            for r in m.dispatchReport { counts["\(r.kind) \(r.implementation)", default: 0] += 1 }
            for (k, v) in counts.sorted(by: { $0.key < $1.key }) { print("  \(name) \(k): \(v)") }
        }
    }
}
