/// Choices the lowering leaves open (for measuring on a GPU).
public struct CUDAPlanOptions: Sendable, Equatable {
    /// The stem's input channels are padded to a multiple of this; nil: 8 for 16-bit types, 4 for float32.
    public var inputChannelMultiple: Int?

    public init(inputChannelMultiple: Int? = nil) {
        self.inputChannelMultiple = inputChannelMultiple
    }
}

/// A graph lowered for CUDA at one batch size and precision, as data: tensors (NHWC, typed, placed in one
/// arena), weights (converted, placed in one buffer), the steps in order and the launches a CUDA graph
/// records for them. Building it makes no CUDA call.
public struct CUDAPlan: Sendable, Equatable {
    /// Every weight starts at a multiple of this in the weights buffer.
    public static let weightAlignment = 256

    public let batchSize: Int
    public let precision: Precision
    /// What activations and weights are stored in (float32 for fp32 and tf32).
    public let computeType: CUDADataType
    public let inputEncoding: ModelInputEncoding
    /// Per-sample shapes of the graph's input ([C, H, W]) and output.
    public let inputShape: [Int]
    public let outputShape: [Int]
    /// Indexed by `CUDATensorID.index`.
    public let tensors: [CUDATensor]
    /// The input batch (uint8 NHWC or float32 NCHW, `.input` storage) and the float32 logits (`.output`).
    public let input: CUDATensorID
    public let output: CUDATensorID
    public let steps: [CUDAStep]
    /// What one forward pass records into its CUDA graph, in order.
    public let launches: [CUDALaunch]
    /// Indexed by `CUDAWeightID.index`.
    public let weights: [CUDAWeight]
    public let weightsByteCount: Int
    public let arenaByteCount: Int
    let payloads: [CUDAWeightPayload]

    public func tensor(_ id: CUDATensorID) -> CUDATensor { tensors[id.index] }

    /// The Sluice kernels the launches use (each must exist in the compiled module).
    public var kernelNames: [String] {
        var seen: Set<String> = []
        return launches.compactMap { launch -> String? in
            guard case .kernel(let k) = launch.kind, seen.insert(k.kernel).inserted else { return nil }
            return k.kernel
        }
    }

    /// Optimises `graph` (batch-norm folding, fusions) and lowers it; throws `CUDAPlanError` naming the node
    /// for anything it cannot lower.
    public static func build(graph: Graph, batchSize: Int, precision: Precision = .fp16,
                             inputEncoding: ModelInputEncoding, options: CUDAPlanOptions = .init()) throws -> CUDAPlan {
        guard batchSize >= 1 else { throw CUDAPlanError(.invalidBatchSize(batchSize)) }
        guard let computeType = CUDADataType(computing: precision) else {
            throw CUDAPlanError(.unsupportedPrecision(precision, why: "the CUDA backend computes in fp16, bf16, tf32 or fp32"))
        }
        var builder = try CUDAPlanBuilder(graph: GraphOptimizer.optimize(graph), batch: batchSize, precision: precision,
                                          computeType: computeType, inputEncoding: inputEncoding, options: options)
        return try builder.build()
    }

    public static func == (a: CUDAPlan, b: CUDAPlan) -> Bool {
        a.batchSize == b.batchSize && a.precision == b.precision && a.computeType == b.computeType
            && a.inputEncoding == b.inputEncoding && a.inputShape == b.inputShape && a.outputShape == b.outputShape
            && a.tensors == b.tensors && a.input == b.input && a.output == b.output && a.steps == b.steps
            && a.launches == b.launches && a.weights == b.weights && a.weightsByteCount == b.weightsByteCount
            && a.arenaByteCount == b.arenaByteCount
    }

    init(batchSize: Int, precision: Precision, computeType: CUDADataType, inputEncoding: ModelInputEncoding,
         inputShape: [Int], outputShape: [Int], tensors: [CUDATensor], input: CUDATensorID, output: CUDATensorID,
         steps: [CUDAStep], launches: [CUDALaunch], weights: [CUDAWeight], weightsByteCount: Int, arenaByteCount: Int,
         payloads: [CUDAWeightPayload]) {
        self.batchSize = batchSize
        self.precision = precision
        self.computeType = computeType
        self.inputEncoding = inputEncoding
        self.inputShape = inputShape
        self.outputShape = outputShape
        self.tensors = tensors
        self.input = input
        self.output = output
        self.steps = steps
        self.launches = launches
        self.weights = weights
        self.weightsByteCount = weightsByteCount
        self.arenaByteCount = arenaByteCount
        self.payloads = payloads
    }
}
