import Inference

/// A value known when the model is imported: an initializer, a Constant node's output, or what constant
/// folding made of them. Shapes are ONNX's (the batch dimension, where there is one, included).
enum Constant {
    case floats(Tensor)
    case ints(shape: [Int], values: [Int])

    var shape: [Int] {
        switch self {
        case .floats(let t): t.shape
        case .ints(let shape, _): shape
        }
    }

    var elementCount: Int {
        switch self {
        case .floats(let t): t.elementCount
        case .ints(_, let values): values.count
        }
    }

    /// The values as integers (floats must be whole numbers).
    func integers() throws -> [Int] {
        switch self {
        case .ints(_, let values): return values
        case .floats(let t): return try t.floats().map { Int(exactly: $0.rounded()) ?? 0 }
        }
    }

    func floatValues() throws -> [Float] {
        switch self {
        case .floats(let t): return try t.floats()
        case .ints(_, let values): return values.map { Float($0) }
        }
    }

    /// The same elements with another shape.
    func reshaped(_ shape: [Int]) throws -> Constant {
        switch self {
        case .floats(let t): return .floats(try t.reshaped(shape))
        case .ints(_, let values): return .ints(shape: shape, values: values)
        }
    }
}

/// The batch dimension where the shape of a computed value is taken (Shape): known only at run time. Reshape
/// takes it as "the batch" in a target's first place; arithmetic on it makes values Reshape refuses.
let batchMarker = -(1 << 40)

/// Saturating conversion for ONNX's int64 fields (INT64_MAX stands for "to the end" in Slice).
func clampedInt(_ value: Int64) -> Int {
    Int(clamping: value)
}
