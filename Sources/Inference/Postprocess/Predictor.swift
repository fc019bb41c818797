import Foundation

/// One classified input.
public struct Prediction: Sendable, Equatable {
    public let name: String
    public let topK: [Int]
    /// Softmax probabilities of `topK`.
    public let scores: [Float]
    public let logits: [Float]

    /// One JSON object on one line (keys sorted): name, top_k, scores, optionally labels and the logits;
    /// non-finite numbers are null.
    public func jsonLine(includeLogits: Bool, labels: [String]? = nil) -> String {
        struct Line: Encodable {
            var name: String
            var top_k: [Int]
            var scores: [Float?]
            var labels: [String?]?
            var logits: [Float?]?
        }
        func finite(_ values: [Float]) -> [Float?] { values.map { $0.isFinite ? $0 : nil } }
        let line = Line(name: name, top_k: topK, scores: finite(scores),
                        labels: labels.map { names in topK.map { $0 < names.count ? names[$0] : nil } },
                        logits: includeLogits ? finite(logits) : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(line)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// Classifies preprocessed inputs: `.npy` float32 arrays of [C, H, W] or [N, C, H, W].
public struct Predictor {
    public let model: any CompiledModel
    public let topK: Int

    public init(model: any CompiledModel, topK: Int = 5) {
        self.model = model
        self.topK = topK
    }

    /// The samples of one `.npy` file, named `file` (one sample) or `file[i]`.
    public func predict(npyPath: String) throws -> [Prediction] {
        let array = try NumpyFile.read(path: npyPath)
        let name = (npyPath as NSString).lastPathComponent
        return try predict(array, name: name)
    }

    public func predict(_ array: Tensor, name: String) throws -> [Prediction] {
        guard array.dtype == .float32 else {
            throw InferenceError(.dtypeMismatch, "\(name): \(array.dtype) array; expected float32 (already preprocessed)")
        }
        let single = array.shape == model.inputShape
        guard single || (array.shape.count == model.inputShape.count + 1 && Array(array.shape.dropFirst()) == model.inputShape) else {
            throw InferenceError(.shapeMismatch, "\(name): array of shape \(array.shape); expected \(model.inputShape) or [N] + \(model.inputShape)")
        }
        let logits = try model.run(array).floats()
        let classes = model.outputShape.reduce(1, *)
        let count = single ? 1 : array.shape[0]
        return (0..<count).map { n in
            let row = logits[(n * classes)..<((n + 1) * classes)]
            let probabilities = Classification.softmax(row)
            let top = Classification.topK(row, k: min(topK, classes))
            return Prediction(name: single ? name : "\(name)[\(n)]", topK: top, scores: top.map { probabilities[$0] },
                              logits: Array(row))
        }
    }
}
