import Foundation
@testable import Inference

/// The PyTorch-made expectations in Tests/Fixtures/engine (Tests/Fixtures/make_engine_fixtures.py).
enum EngineFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/engine")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    struct Inputs: Decodable {
        let weight_seed: UInt64
        let photos: [String]
        let mean: [Float]
        let std: [Float]
        let random_input_seeds: [String: [UInt64]]
    }

    static func inputs() throws -> Inputs {
        try JSONDecoder().decode(Inputs.self, from: Data(contentsOf: directory.appendingPathComponent("inputs.json")))
    }

    /// ToTensor + Normalize in float32, the operations the fixture script performs: (v / 255 − mean) / std.
    static func normalisedPhotos() throws -> [Tensor] {
        let info = try inputs()
        let crops = try NumpyFile.read(path: path("photos_u8.npy"))
        let (count, height, width) = (crops.shape[0], crops.shape[1], crops.shape[2])
        let bytes = UnsafeRawBufferPointer(start: crops.storage.bytes, count: crops.byteCount)
        return try (0..<count).map { n in
            var values = [Float](repeating: 0, count: 3 * height * width)
            for c in 0..<3 {
                for y in 0..<height {
                    for x in 0..<width {
                        let v = Float(bytes[((n * height + y) * width + x) * 3 + c]) / Float(255)
                        values[(c * height + y) * width + x] = (v - info.mean[c]) / info.std[c]
                    }
                }
            }
            return try Tensor(shape: [3, height, width], values: values)
        }
    }

    /// The model's inputs in the fixture's order: the photos, then the seeded tensors.
    static func batch(for model: String) throws -> Tensor {
        let seeds = try inputs().random_input_seeds[model] ?? []
        let samples = try normalisedPhotos() + seeds.map { try SeededWeights.input(seed: $0) }
        var values: [Float] = []
        for sample in samples { values += try sample.floats() }
        return try Tensor(shape: [samples.count, 3, 224, 224], values: values)
    }

    static func logits(for model: String) throws -> Tensor {
        try NumpyFile.read(path: path("\(model)_logits.npy"))
    }

    static func keys(for model: String) throws -> [(String, [Int])] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("\(model)_keys.json")))
        return (json as? [[Any]] ?? []).map { ($0[0] as? String ?? "", $0[1] as? [Int] ?? []) }
    }
}

/// Comparisons of logits rows.
struct LogitComparison {
    let maxAbsDifference: Float
    let maxAbsExpected: Float
    let top5Matches: Int
    let top1Matches: Int
    let rows: Int

    init(actual: [Float], expected: [Float], classes: Int) {
        rows = expected.count / classes
        maxAbsDifference = zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
        maxAbsExpected = expected.map(abs).max() ?? 0
        var top5 = 0, top1 = 0
        for r in 0..<rows {
            let a = Classification.topK(actual[(r * classes)..<((r + 1) * classes)], k: 5)
            let e = Classification.topK(expected[(r * classes)..<((r + 1) * classes)], k: 5)
            if a == e { top5 += 1 }
            if a.first == e.first { top1 += 1 }
        }
        top5Matches = top5
        top1Matches = top1
    }

    var relativeError: Float { maxAbsDifference / maxAbsExpected }
}
