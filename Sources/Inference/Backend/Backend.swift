/// Numeric precision of a compiled model's arithmetic. Inputs and logits are float32 in every case.
public enum Precision: String, Sendable, CaseIterable {
    case fp32
    /// bfloat16 weights and activations, float32 accumulation (AVX512-BF16 where the CPU has it).
    case bf16
    /// 8-bit integers: per-channel s8 weights, u8/s8 activations scaled from a calibration batch.
    case int8
}

/// One primitive of a compiled model and the implementation the library chose for it.
public struct DispatchRecord: Sendable, CustomStringConvertible {
    public let layer: String
    public let kind: String
    public let implementation: String
    public let detail: String

    public var description: String { "\(layer) [\(kind)] \(implementation) \(detail)" }
}

/// A compiler of graphs for one kind of device. Backends other than oneDNN (CUDA...) conform later.
public protocol Backend: Sendable {
    var name: String { get }
    /// Optimises the graph (batch-norm folding, fusions) and prepares it to run `batchSize` samples at a
    /// time; batches of fewer samples run too.
    func compile(_ graph: Graph, batchSize: Int, precision: Precision) throws -> any CompiledModel
}

/// A graph ready to run. One `run` at a time per model (calls are serialised); use one model per thread
/// for parallel inference.
public protocol CompiledModel: AnyObject, Sendable {
    var batchSize: Int { get }
    var precision: Precision { get }
    /// Per-sample input shape, e.g. [3, 224, 224].
    var inputShape: [Int] { get }
    /// Per-sample output shape, e.g. [1000].
    var outputShape: [Int] { get }
    /// What each primitive dispatched to.
    var dispatchReport: [DispatchRecord] { get }
    /// Runs `count` samples (1 ≤ count ≤ batchSize) of contiguous NCHW float32 `input` and writes their
    /// outputs, contiguous float32, to `output`.
    func run(input: UnsafeBufferPointer<Float>, count: Int, output: UnsafeMutableBufferPointer<Float>) throws
}

extension CompiledModel {
    /// Runs a [N, ...inputShape] (or [...inputShape]) float32 tensor; returns [N, ...outputShape] logits.
    public func run(_ input: Tensor) throws -> Tensor {
        let perSample = inputShape.reduce(1, *)
        let count: Int
        if input.shape == inputShape {
            count = 1
        } else if input.shape.count == inputShape.count + 1, Array(input.shape.dropFirst()) == inputShape {
            count = input.shape[0]
        } else {
            throw InferenceError(.shapeMismatch, "input of shape \(input.shape); the model takes [N] + \(inputShape)")
        }
        let outputCount = outputShape.reduce(1, *)
        let output = try Tensor.zeros([count] + outputShape)
        let source = try input.asFloat32()
        try source.withFloats { floats in
            var done = 0
            while done < count {
                let n = min(batchSize, count - done)
                let slice = UnsafeBufferPointer(rebasing: floats[(done * perSample)..<((done + n) * perSample)])
                // Invariant: output storage is owned, aligned and holds count × outputCount floats.
                let target = UnsafeMutableBufferPointer(
                    start: output.storage.bytes.assumingMemoryBound(to: Float.self) + done * outputCount, count: n * outputCount)
                try run(input: slice, count: n, output: target)
                done += n
            }
        }
        return output
    }
}
