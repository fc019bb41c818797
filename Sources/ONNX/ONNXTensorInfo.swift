/// A model input's or output's contract, from the graph: name, element type and shape, the batch
/// dimension first (nil where the model leaves a dimension open, e.g. a dynamic batch).
public struct ONNXTensorInfo: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let elementType: String
    public let shape: [Int?]

    /// Whether the first (batch) dimension is left open by the model.
    public var dynamicBatch: Bool { shape.first.map { $0 == nil } ?? false }
    /// The shape of one sample: every dimension after the batch.
    public var sampleShape: [Int] { shape.dropFirst().map { $0 ?? 0 } }

    public var description: String {
        "\(name): \(elementType)[\(shape.map { $0.map(String.init) ?? "N" }.joined(separator: ", "))]"
    }
}
