/// The GPU backend: cuDNN convolutions (bias, residual and ReLU fused) and pooling, cuBLASLt for the classifier,
/// Sluice's NVRTC-compiled kernels for the input normalisation and what cuDNN lacks, all in NHWC, the forward
/// pass captured as one CUDA graph. The CUDA libraries are loaded at run time: compiling on a machine without a
/// driver throws `CUDAError.libraryNotFound` naming libcuda.so.1 and the folders searched, before anything else.
public struct CUDABackend: Backend {
    public let name = "cuda"
    /// What the CLI computes in on a GPU when no precision is asked for.
    public static let defaultPrecision: Precision = .fp16
    /// The workspace each model gives cuDNN and cuBLASLt; algorithms needing more are not chosen.
    public static let defaultWorkspaceBytes = 256 << 20

    /// The device ordinal (cuda:N).
    public var device: Int
    /// With a normalisation the compiled model reads uint8 NHWC crops (`.uint8NHWC`) and normalises them on
    /// the device; without, normalised float32 NCHW.
    public var inputNormalization: InputNormalization?
    public var search: CUDALibrarySearch
    /// Where copies of one model on one device share their weights and algorithm choices; nil: a cache of
    /// the model's own.
    public var sharedWeights: CUDAWeightCache?
    public var algorithmSearch: CUDAAlgorithmSearch
    public var workspaceBytes: Int
    /// Capture each forward pass as a CUDA graph (one launch per batch); false launches every step (diagnosis).
    public var capturesGraphs: Bool

    public init(device: Int = 0, inputNormalization: InputNormalization?, search: CUDALibrarySearch = .init(),
                sharedWeights: CUDAWeightCache? = nil, algorithmSearch: CUDAAlgorithmSearch = .measure,
                workspaceBytes: Int = CUDABackend.defaultWorkspaceBytes, capturesGraphs: Bool = true) {
        self.capturesGraphs = capturesGraphs
        self.device = device
        self.inputNormalization = inputNormalization
        self.search = search
        self.sharedWeights = sharedWeights
        self.algorithmSearch = algorithmSearch
        self.workspaceBytes = workspaceBytes
    }

    public func compile(_ graph: Graph, batchSize: Int, precision: Precision) throws -> any CompiledModel {
        try compileModel(graph, batchSize: batchSize, precision: precision)
    }

    /// `compile`, typed: the dispatch report, plan and device sizes for tools and tests.
    public func compileModel(_ graph: Graph, batchSize: Int, precision: Precision) throws -> CUDAModel {
        let cache = sharedWeights ?? CUDAWeightCache()
        // The driver first: without one nothing else is looked for.
        let session = try cache.session(ordinal: device) { try CUDASession(ordinal: device, search: search) }
        guard workspaceBytes >= 0 else {
            throw InferenceError(.invalidGraph, "a workspace of \(workspaceBytes) bytes; it must be at least 0")
        }
        return try CUDAModel(graph: graph, batchSize: batchSize, precision: precision, inputNormalization: inputNormalization,
                             session: session, cache: cache, algorithmSearch: algorithmSearch, workspaceBytes: workspaceBytes,
                             capturesGraphs: capturesGraphs)
    }
}
