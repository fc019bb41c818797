/// Named models with their weights: a safetensors file, or seeded weights when none is given.
public enum ModelZoo {
    /// The seed of the default (seeded) weights: benchmarks and the embedded default use it.
    public static let defaultSeed: UInt64 = 20240601

    public static func graph(_ name: String, weightsPath: String? = nil, seed: UInt64 = defaultSeed) throws -> Graph {
        guard let variant = ResNet.Variant(rawValue: name) else {
            throw InferenceError(.unsupported, "unknown model '\(name)'; known: \(ResNet.Variant.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let weightsPath {
            let file = try SafetensorsFile(path: weightsPath)
            let classes = file.entries["fc.weight"]?.shape.first ?? 1000
            return try ResNet.build(variant, weights: file, classes: classes)
        }
        return try ResNet.build(variant, weights: SeededWeights(seed: seed))
    }
}
