/// Numeric precision of a compiled model's arithmetic. Logits are float32 in every case.
public enum Precision: String, Sendable, CaseIterable {
    case fp32
    /// bfloat16 weights and activations, float32 accumulation (AVX512-BF16 where the CPU has it).
    case bf16
    /// 8-bit integers: per-channel s8 weights, u8/s8 activations scaled from a calibration batch.
    case int8
    /// IEEE half weights and activations, float32 accumulation (GPU tensor cores; CUDA only).
    case fp16
    /// float32 values, TensorFloat-32 tensor-core arithmetic in convolutions and matrix products (CUDA only).
    case tf32
}

/// Per-channel normalisation of uint8 pixels, as torchvision's ToTensor + Normalize: (x / divisor − mean) / std.
public struct InputNormalization: Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]
    public var divisor: Float

    public init(mean: [Float], std: [Float], divisor: Float) {
        self.mean = mean
        self.std = std
        self.divisor = divisor
    }
}

/// What a compiled model reads, which the pipeline's preprocessing then writes.
public enum ModelInputEncoding: Sendable, Equatable {
    /// Normalised float32 in NCHW, `inputShape` ([C, H, W]) per sample: the CPU backends.
    case float32NCHW
    /// The crop's uint8 pixels, HWC per sample ([H, W, C] for an `inputShape` of [C, H, W]); the model
    /// normalises them on its device, so 4× fewer bytes cross to it.
    case uint8NHWC(InputNormalization)
}

/// Host memory a backend wants its input batches in (pinned, page-locked memory for a GPU's copy engines).
public protocol HostMemoryAllocator: Sendable {
    /// `byteCount` bytes aligned to at least 64; freed with `deallocate`.
    func allocate(byteCount: Int) throws -> UnsafeMutableRawPointer
    func deallocate(_ pointer: UnsafeMutableRawPointer)
}

/// What a model on an accelerator measured since it was compiled.
public struct DeviceStatistics: Sendable, Equatable {
    /// The device, e.g. "cuda:0 NVIDIA H100 80GB HBM3".
    public var device: String
    /// Time the device spent running this model's work (from device events).
    public var busySeconds: Double
    public var hostToDeviceBytes: Int
    public var deviceToHostBytes: Int

    public init(device: String, busySeconds: Double = 0, hostToDeviceBytes: Int = 0, deviceToHostBytes: Int = 0) {
        self.device = device
        self.busySeconds = busySeconds
        self.hostToDeviceBytes = hostToDeviceBytes
        self.deviceToHostBytes = deviceToHostBytes
    }
}

/// One primitive of a compiled model and the implementation the library chose for it.
public struct DispatchRecord: Sendable, CustomStringConvertible {
    public let layer: String
    public let kind: String
    public let implementation: String
    public let detail: String

    public var description: String { "\(layer) [\(kind)] \(implementation) \(detail)" }
}

/// A compiler of graphs for one kind of device: oneDNN (CPU) and CUDA.
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

    /// What `run` reads; `.float32NCHW` unless the model says otherwise.
    var inputEncoding: ModelInputEncoding { get }
    /// Runs `count` samples of contiguous uint8 HWC crops (models whose `inputEncoding` is `.uint8NHWC`).
    func run(pixels: UnsafeRawBufferPointer, count: Int, output: UnsafeMutableBufferPointer<Float>) throws
    /// Where input batches should live (pinned memory for a GPU); nil: ordinary memory.
    var hostAllocator: (any HostMemoryAllocator)? { get }
    /// Device time and transfers, for models on an accelerator; nil on the CPU.
    var deviceStatistics: DeviceStatistics? { get }
}

extension CompiledModel {
    public var inputEncoding: ModelInputEncoding { .float32NCHW }
    public var hostAllocator: (any HostMemoryAllocator)? { nil }
    public var deviceStatistics: DeviceStatistics? { nil }

    public func run(pixels: UnsafeRawBufferPointer, count: Int, output: UnsafeMutableBufferPointer<Float>) throws {
        throw InferenceError(.unsupported, "this model reads normalised float32 NCHW input, not uint8 pixels")
    }
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
