import Foundation
import Testing
@testable import Inference

struct NumpyAndPredictorTests {
    @Test func readsNumpyWrittenArrays() throws {
        let photos = try NumpyFile.read(path: EngineFixtures.path("photos_u8.npy"))
        #expect(photos.shape == [2, 224, 224, 3])
        #expect(photos.dtype == .uint8)
        let logits = try NumpyFile.read(path: EngineFixtures.path("resnet50_logits.npy"))
        #expect(logits.shape == [16, 1000])
        #expect(logits.dtype == .float32)
    }

    @Test func rejectsBadArrays() throws {
        #expect(throws: InferenceError.self) { try NumpyFile.parse(Data("not numpy".utf8)) }
        var header = Array("\u{93}NUMPY".utf8)
        header = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }"
        let body = header + [UInt8(dict.utf8.count), 0] + Array(dict.utf8) + [UInt8](repeating: 0, count: 16)
        let error = #expect(throws: InferenceError.self) { try NumpyFile.parse(Data(body)) }
        #expect(error?.kind == .malformedFile)
        let complexDict = "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"
        let complex = header + [UInt8(complexDict.utf8.count), 0] + Array(complexDict.utf8) + [UInt8](repeating: 0, count: 8)
        #expect(throws: InferenceError.self) { try NumpyFile.parse(Data(complex)) }
    }

    @Test func topKAndSoftmax() {
        let logits: [Float] = [1, 3, 2, 3, -1]
        #expect(Classification.topK(logits[...], k: 3) == [1, 3, 2])
        let p = Classification.softmax(logits[...])
        #expect(abs(p.reduce(0, +) - 1) < 1e-6)
        #expect(abs(p[1] - p[3]) < 1e-7)
    }

    /// `sluice predict`'s output for the photos: PyTorch's top-5 for the seeded resnet18.
    @Test func predictorPrintsPyTorchsTop5() throws {
        let seed = try EngineFixtures.inputs().weight_seed
        let graph = try ResNet.build(.resnet18, weights: SeededWeights(seed: seed))
        let model = try OneDNNBackend().compile(graph, batchSize: 2, precision: .fp32)
        let photos = try EngineFixtures.normalisedPhotos()
        let batch = try Tensor(shape: [2, 3, 224, 224], values: try photos[0].floats() + photos[1].floats())
        let predictions = try Predictor(model: model, topK: 5).predict(batch, name: "photos")
        let expected = try EngineFixtures.logits(for: "resnet18").floats()
        for (n, prediction) in predictions.enumerated() {
            #expect(prediction.name == "photos[\(n)]")
            #expect(prediction.topK == Classification.topK(expected[(n * 1000)..<((n + 1) * 1000)], k: 5))
            let line = prediction.jsonLine(includeLogits: false, labels: nil)
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["top_k"] as? [Int] == prediction.topK)
            #expect((object?["scores"] as? [Double])?.count == 5)
            #expect(object?["logits"] == nil)
        }
        let withLogits = predictions[0].jsonLine(includeLogits: true, labels: ["a"])
        let object = try JSONSerialization.jsonObject(with: Data(withLogits.utf8)) as? [String: Any]
        #expect((object?["logits"] as? [Double])?.count == 1000)
        #expect((object?["labels"] as? [Any])?.count == 5)
    }
}
