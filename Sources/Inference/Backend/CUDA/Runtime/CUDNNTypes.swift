// Swift mirrors of the cuDNN 9 C enums and structs the backend passes (values from cudnn_graph.h, cudnn_ops.h
// and cudnn_cnn.h of cuDNN 9.x; the C functions take them as `int`, so pass `.rawValue`).

/// cudnnDataType_t.
public enum CUDNNDataType: Int32, Sendable {
    case float = 0
    case double = 1
    case half = 2
    case int8 = 3
    case int32 = 4
    case uint8 = 6
    case bfloat16 = 9
    case int64 = 10
}

/// cudnnTensorFormat_t.
public enum CUDNNTensorFormat: Int32, Sendable {
    case nchw = 0
    case nhwc = 1
}

/// cudnnConvolutionMode_t. Deep-learning "convolution" is cross-correlation (no kernel flip).
public enum CUDNNConvolutionMode: Int32, Sendable {
    case convolution = 0
    case crossCorrelation = 1
}

/// cudnnMathType_t.
public enum CUDNNMathType: Int32, Sendable {
    case `default` = 0
    /// CUDNN_TENSOR_OP_MATH: tensor cores for fp16/bf16 data.
    case tensorOp = 1
    /// CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: tensor cores also for fp32 data, converted down (TF32 on Ampere+).
    case tensorOpAllowConversion = 2
    /// CUDNN_FMA_MATH: no tensor cores.
    case fma = 3
}

/// cudnnActivationMode_t.
public enum CUDNNActivationMode: Int32, Sendable {
    case sigmoid = 0
    case relu = 1
    case tanh = 2
    case clippedRelu = 3
    case elu = 4
    /// Required by cudnnConvolutionBiasActivationForward for "no activation" (with the IMPLICIT_PRECOMP_GEMM algorithm).
    case identity = 5
    case swish = 6
}

/// cudnnPoolingMode_t.
public enum CUDNNPoolingMode: Int32, Sendable {
    case max = 0
    case averageCountIncludePadding = 1
    case averageCountExcludePadding = 2
    case maxDeterministic = 3
}

/// cudnnNanPropagation_t.
public enum CUDNNNanPropagation: Int32, Sendable {
    case notPropagate = 0
    case propagate = 1
}

/// cudnnSoftmaxAlgorithm_t.
public enum CUDNNSoftmaxAlgorithm: Int32, Sendable {
    case fast = 0
    case accurate = 1
    case log = 2
}

/// cudnnSoftmaxMode_t.
public enum CUDNNSoftmaxMode: Int32, Sendable {
    case instance = 0
    case channel = 1
}

/// cudnnOpTensorOp_t.
public enum CUDNNOpTensorOperation: Int32, Sendable {
    case add = 0
    case multiply = 1
    case min = 2
    case max = 3
    case sqrt = 4
    case not = 5
}

/// cudnnConvolutionFwdAlgo_t.
public enum CUDNNConvolutionForwardAlgorithm: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case implicitGemm = 0
    case implicitPrecompGemm = 1
    case gemm = 2
    case direct = 3
    case fft = 4
    case fftTiling = 5
    case winograd = 6
    case winogradNonfused = 7

    /// The C name, as `--verbose` dispatch reports print it: "CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM".
    public var cName: String {
        switch self {
        case .implicitGemm: "CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM"
        case .implicitPrecompGemm: "CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM"
        case .gemm: "CUDNN_CONVOLUTION_FWD_ALGO_GEMM"
        case .direct: "CUDNN_CONVOLUTION_FWD_ALGO_DIRECT"
        case .fft: "CUDNN_CONVOLUTION_FWD_ALGO_FFT"
        case .fftTiling: "CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING"
        case .winograd: "CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD"
        case .winogradNonfused: "CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED"
        }
    }

    /// "implicit-precomp-gemm".
    public var description: String {
        switch self {
        case .implicitGemm: "implicit-gemm"
        case .implicitPrecompGemm: "implicit-precomp-gemm"
        case .gemm: "gemm"
        case .direct: "direct"
        case .fft: "fft"
        case .fftTiling: "fft-tiling"
        case .winograd: "winograd"
        case .winogradNonfused: "winograd-nonfused"
        }
    }
}

/// cudnnConvolutionFwdAlgoPerf_t, as cudnnFindConvolutionForwardAlgorithmEx and
/// cudnnGetConvolutionForwardAlgorithm_v7 fill it (48 bytes: int, int, float, size_t, int, int, int[3]).
/// Pass an array of these as the results pointer.
public struct CUDNNConvolutionForwardAlgorithmPerformance: Sendable {
    public var algorithm: Int32 = 0
    public var status: CUDNNStatus = 0
    /// Milliseconds (Find), or -1 (heuristics).
    public var time: Float = 0
    /// Workspace bytes.
    public var memory: Int = 0
    public var determinism: Int32 = 0
    public var mathType: Int32 = 0
    public var reserved: (Int32, Int32, Int32) = (0, 0, 0)

    public init() {}

    public var knownAlgorithm: CUDNNConvolutionForwardAlgorithm? { CUDNNConvolutionForwardAlgorithm(rawValue: algorithm) }
    public var knownMathType: CUDNNMathType? { CUDNNMathType(rawValue: mathType) }
}
