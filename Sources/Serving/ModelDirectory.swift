import Foundation

/// What a SageMaker model archive (unpacked into /opt/ml/model) tells `sluice serve`: `sluice-model.json`
/// beside the weights. Paths are relative to the directory; every field but `model` has the default of the
/// matching `sluice run` option.
///
///     {"model": "resnet50", "weights": "resnet50.safetensors", "precision": "fp32",
///      "resize": "256", "crop": "224", "mean": "0.485,0.456,0.406", "std": "0.229,0.224,0.225", "divisor": 255,
///      "labels": "labels.txt", "top_k": 5}
public struct ModelDirectory: Sendable, Codable, Equatable {
    public static let fileName = "sluice-model.json"

    public var model: String
    public var weights: String?
    public var precision: String?
    public var calibration: String?
    public var resize: String?
    public var crop: String?
    public var mean: String?
    public var std: String?
    public var divisor: Float?
    public var labels: String?
    public var topK: Int?

    enum CodingKeys: String, CodingKey {
        case model, weights, precision, calibration, resize, crop, mean, std, divisor, labels
        case topK = "top_k"
    }

    /// The description in `directory`, nil when it has none; a file that is not valid is an error naming it.
    public static func load(_ directory: String) throws -> ModelDirectory? {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            var description = try JSONDecoder().decode(ModelDirectory.self, from: data)
            func resolve(_ name: String?) -> String? {
                name.map { $0.hasPrefix("/") ? $0 : (directory as NSString).appendingPathComponent($0) }
            }
            description.weights = resolve(description.weights)
            description.calibration = resolve(description.calibration)
            description.labels = resolve(description.labels)
            return description
        } catch {
            throw ServingError.configuration("\(path): \(error)")
        }
    }
}
