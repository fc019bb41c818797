import Foundation
import Inference
import Testing
@testable import ONNX

/// EfficientNet-Lite0 with its real ImageNet weights (Tests/Fixtures/make_efficientnet_lite0.py, which needs torch,
/// pip and onnxruntime; skipped, and reported as skipped, where it was not generated): labelled photos from
/// ../shared/data/images get their class in the top 5, in fp32 (and match ONNX Runtime), bf16 and int8.
@Suite(.serialized, .enabled(if: FileManager.default.fileExists(atPath: ONNXFixtures.lite0.appendingPathComponent("photos_ort.npy").path),
                             "run Tests/Fixtures/make_efficientnet_lite0.py first"))
struct EfficientNetLite0Tests {
    static let directory = ONNXFixtures.lite0

    static func labels() throws -> [(String, Int)] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("labels.json")))
        return (json as? [[Any]] ?? []).map { ($0[0] as? String ?? "", $0[1] as? Int ?? -1) }
    }

    static func top5(_ logits: [Float], row: Int) -> [Int] {
        let slice = Array(logits[(row * 1000)..<((row + 1) * 1000)])
        return Array(slice.indices.sorted { slice[$0] > slice[$1] }.prefix(5))
    }

    @Test(arguments: [Precision.fp32, .bf16, .int8])
    func labelledPhotosAreInTheTop5(precision: Precision) throws {
        let model = try ONNXModel.load(path: Self.directory.appendingPathComponent("efficientnet_lite0.onnx").path)
        let photos = try NumpyFile.read(path: Self.directory.appendingPathComponent("photos.npy").path)
        // int8 scales from the photos themselves: the fixture has too few labelled photos to hold some out.
        let compiled = try OneDNNBackend(threads: 2, calibration: precision == .int8 ? photos : nil)
            .compile(model.graph, batchSize: 4, precision: precision)
        let logits = try compiled.run(photos).floats()
        for (row, (name, label)) in try Self.labels().enumerated() {
            let top5 = Self.top5(logits, row: row)
            print("efficientnet-lite0 \(precision) \(name): top-5 \(top5)")
            #expect(top5.contains(label), "\(name): \(label) not in \(top5)")
        }
        if precision == .fp32 {
            let expected = try NumpyFile.read(path: Self.directory.appendingPathComponent("photos_ort.npy").path).floats()
            let delta = zip(logits, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            let largest = expected.reduce(Float(0)) { max($0, abs($1)) }
            print("efficientnet-lite0 fp32: max |Δ| \(delta) of max |logit| \(largest)")
            #expect(delta <= 1e-4 * largest)
        }
    }
}
