/// The element types a CUDA plan stores tensors in.
public enum CUDADataType: String, Sendable, Equatable, CaseIterable {
    case uint8, float16, bfloat16, float32

    public var byteSize: Int {
        switch self {
        case .uint8: 1
        case .float16, .bfloat16: 2
        case .float32: 4
        }
    }

    /// The suffix of the kernel entry points instantiated for this type (`sluice_activation_f16`).
    public var kernelSuffix: String {
        switch self {
        case .uint8: "u8"
        case .float16: "f16"
        case .bfloat16: "bf16"
        case .float32: "f32"
        }
    }

    /// The type activations and weights are stored in under `precision`; nil for int8 (not lowered to CUDA).
    public init?(computing precision: Precision) {
        switch precision {
        case .fp16: self = .float16
        case .bf16: self = .bfloat16
        case .fp32, .tf32: self = .float32
        case .int8: return nil
        }
    }
}

/// The order of a tensor's elements in memory.
public enum CUDATensorLayout: String, Sendable, Equatable {
    /// Per sample [H, W, C]: what cuDNN's tensor-core kernels read and write. A value of per-sample shape
    /// [K] (after a flatten) is (H, W, C) = (1, 1, K).
    case nhwc
    /// Per sample [C, H, W]: the float32 model input, and the element order a flatten of [C, H, W] means.
    case nchw
}

/// A tensor's extent: batch, height, width, channels (whatever its layout in memory).
public struct CUDAShape: Sendable, Equatable, CustomStringConvertible {
    public let n: Int, h: Int, w: Int, c: Int

    public init(n: Int, h: Int, w: Int, c: Int) {
        self.n = n
        self.h = h
        self.w = w
        self.c = c
    }

    public var elementCount: Int { n * h * w * c }
    public var description: String { "\(n)x\(h)x\(w)x\(c)" }
}

public struct CUDATensorID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: Self, b: Self) -> Bool { a.index < b.index }
    public var description: String { "t\(index)" }
}

/// One buffer of the forward pass: the input batch, an activation in the arena, or the logits.
public struct CUDATensor: Sendable, Equatable {
    public enum Storage: Sendable, Equatable {
        /// The input batch the host copies to the device before the pass (its own device buffer).
        case input
        /// `offset` bytes into the activation arena.
        case arena(offset: Int)
        /// The float32 [N, outputs] logits the host copies back after the pass (its own device buffer).
        case output
    }

    public let id: CUDATensorID
    /// The graph node whose result it holds ("input" for the input batch).
    public let name: String
    public let shape: CUDAShape
    public let dtype: CUDADataType
    public let layout: CUDATensorLayout
    public let byteCount: Int
    public internal(set) var storage: Storage
}

public struct CUDAWeightID: Hashable, Sendable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public var description: String { "w\(index)" }
}

/// How a weight's elements are ordered in the weights buffer.
public enum CUDAWeightLayout: Sendable, Equatable {
    /// A convolution filter for NHWC convolutions: [K, R, S, C] (cuDNN's CUDNN_TENSOR_NHWC filter format),
    /// C being the input channels per group, zero-padded past the graph's own where the input is.
    case filterKRSC(k: Int, r: Int, s: Int, c: Int)
    case vector(count: Int)
    /// Row-major [rows, cols]: a linear layer's weight [outputs, inputs].
    case matrix(rows: Int, cols: Int)
    /// A binary operation's constant operand, NHWC of its (broadcast) per-sample extent.
    case constant(h: Int, w: Int, c: Int)

    public var elementCount: Int {
        switch self {
        case .filterKRSC(let k, let r, let s, let c): k * r * s * c
        case .vector(let count): count
        case .matrix(let rows, let cols): rows * cols
        case .constant(let h, let w, let c): h * w * c
        }
    }
}

/// One parameter tensor in the weights buffer, converted to its type and layout.
public struct CUDAWeight: Sendable, Equatable {
    public let id: CUDAWeightID
    /// The graph node and parameter: "layer1.0.conv1.weight", "fc.bias".
    public let name: String
    public let dtype: CUDADataType
    public let layout: CUDAWeightLayout
    public let byteCount: Int
    /// Bytes into the one weights buffer (a multiple of `CUDAPlan.weightAlignment`).
    public let offset: Int
}

/// What a fused convolution applies after bias and residual (cudnnConvolutionBiasActivationForward's
/// activation descriptor).
public enum CUDAConvolutionActivation: Sendable, Equatable {
    /// CUDNN_ACTIVATION_IDENTITY, which cuDNN runs with CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM only.
    case identity
    /// CUDNN_ACTIVATION_RELU.
    case relu
    /// CUDNN_ACTIVATION_CLIPPED_RELU with coefficient `ceiling`: min(max(x, 0), ceiling) (ReLU6).
    case clippedRelu(ceiling: Float)
}

/// cuDNN math type of a convolution (cudnnSetConvolutionMathType).
public enum CUDAMathMode: String, Sendable, Equatable {
    /// CUDNN_TENSOR_OP_MATH: fp16/bf16 tensor cores, float32 accumulation.
    case tensorOp
    /// CUDNN_DEFAULT_MATH: float32 data, TensorFloat-32 tensor cores allowed (tf32).
    case tf32
    /// CUDNN_FMA_MATH: float32 data on CUDA cores, no TensorFloat-32 rounding (fp32).
    case fma
}

/// Which forward algorithms the executor may choose from for a convolution.
public enum CUDAAlgorithmConstraint: String, Sendable, Equatable {
    case any
    /// CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM only (the identity activation requires it).
    case implicitPrecompGemm
}

/// cudnnConvolutionBiasActivationForward: y = act(conv(x, w) + z + bias), NHWC tensors, KRSC filter.
public struct CUDAConvolutionStep: Sendable, Equatable {
    public let input: CUDATensorID
    public let output: CUDATensorID
    /// cuDNN's `z` (alpha2 = 1): the residual added before the activation; never the output's own buffer.
    public let residual: CUDATensorID?
    public let filter: CUDAWeightID
    /// Always present (zeros when the graph has none): the fused call requires one. In the data type.
    public let bias: CUDAWeightID
    /// Output channels, filter height and width, input channels per group (padded for the stem).
    public let k: Int, r: Int, s: Int, c: Int
    public let padding: [Int]
    public let stride: [Int]
    public let dilation: [Int]
    public let groups: Int
    public let activation: CUDAConvolutionActivation
    /// x, w, z, y and bias; the accumulation (cudnnSetConvolution2dDescriptor's computeType) is float32.
    public let dataType: CUDADataType
    public let mathMode: CUDAMathMode
    public let algorithms: CUDAAlgorithmConstraint
}

public enum CUDAPoolingMode: String, Sendable, Equatable {
    /// CUDNN_POOLING_MAX (padding never wins).
    case max
    /// CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING.
    case averageIncludingPadding
    /// CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING (also the global average pool: a window of H×W).
    case averageExcludingPadding
}

/// cudnnPoolingForward on NHWC tensors; symmetric padding (the plan refuses what needs more).
public struct CUDAPoolingStep: Sendable, Equatable {
    public let input: CUDATensorID
    public let output: CUDATensorID
    public let mode: CUDAPoolingMode
    public let window: [Int]
    public let padding: [Int]
    public let stride: [Int]
    /// A global average pool (window = the input's H × W).
    public let isGlobal: Bool
}

/// cublasLtMatmul epilogues (CUBLASLT_EPILOGUE_*).
public enum CUDAMatmulEpilogue: String, Sendable, Equatable {
    case none = "DEFAULT"
    case bias = "BIAS"
    case relu = "RELU"
    case reluBias = "RELU_BIAS"
}

/// A linear layer as one cublasLtMatmul in cuBLAS's column-major terms: D (m × n, ld m) =
/// op(A) · B with A = the row-major weight [m, k] read as k × m (lda k, CUBLAS_OP_T), B = the row-major
/// input [n, k] read as k × n (ldb k, CUBLAS_OP_N); D is then the row-major output [n, m]. The bias
/// epilogue adds a vector of m (D's rows).
public struct CUDAMatmulStep: Sendable, Equatable {
    public let input: CUDATensorID
    public let output: CUDATensorID
    public let weight: CUDAWeightID
    public let bias: CUDAWeightID?
    /// Outputs, batch, inputs.
    public let m: Int, n: Int, k: Int
    public let epilogue: CUDAMatmulEpilogue
    /// A and B.
    public let inputType: CUDADataType
    /// D (and C, and the bias): float32 when the result is the model's output.
    public let outputType: CUDADataType
    /// CUBLAS_COMPUTE_32F_FAST_TF32 when true (tf32), else CUBLAS_COMPUTE_32F; scale type float32.
    public let allowsTF32: Bool
}

/// An elementwise activation by Sluice's kernel; `output` may be `input` (in place).
public struct CUDAActivationStep: Sendable, Equatable {
    public let input: CUDATensorID
    public let output: CUDATensorID
    public let activation: Activation
}

/// A batch-norm that could not be folded: y = act(x · scale[c] + shift[c]), scale and shift float32.
public struct CUDAScaleShiftStep: Sendable, Equatable {
    public let input: CUDATensorID
    public let output: CUDATensorID
    public let scale: CUDAWeightID
    public let shift: CUDAWeightID
    public let activation: Activation?
}

public enum CUDABinaryOperand: Sendable, Equatable {
    case tensor(CUDATensorID)
    case weight(CUDAWeightID)
}

/// y = a ∘ b, b broadcast: output element (i0, i1, i2, i3) in `dims` (row-major, NHWC for 4-D values) reads
/// b at Σ iₖ · bStrides[k] (stride 0 on broadcast axes).
public struct CUDABinaryStep: Sendable, Equatable {
    public let a: CUDATensorID
    public let b: CUDABinaryOperand
    public let output: CUDATensorID
    public let kind: BinaryKind
    public let dims: [Int]
    public let bStrides: [Int]
}

/// Concatenation along channels: each input copied into its channel slice of the NHWC output.
public struct CUDAConcatStep: Sendable, Equatable {
    public let inputs: [CUDATensorID]
    public let output: CUDATensorID
    /// Where each input's channels start in the output.
    public let channelOffsets: [Int]
}

/// Softmax over each row of `columns` values, float32.
public struct CUDASoftmaxStep: Sendable, Equatable {
    public let input: CUDATensorID
    public let output: CUDATensorID
    public let rows: Int
    public let columns: Int
}

/// A batched transpose of [rows, columns] matrices: NHWC → NCHW element order (rows = H·W, columns = C)
/// or back (rows = C, columns = H·W).
public struct CUDATransposeStep: Sendable, Equatable {
    public let input: CUDATensorID
    public let output: CUDATensorID
    public let batch: Int
    public let rows: Int
    public let columns: Int
}

/// Element type conversion (logits to float32, a value a float32-only step reads).
public struct CUDAConvertStep: Sendable, Equatable {
    public let input: CUDATensorID
    public let output: CUDATensorID
    public let from: CUDADataType
    public let to: CUDADataType
}

/// uint8 NHWC crops → (x / divisor − mean) / std per channel as x · scale[c] + shift[c], in the compute type,
/// NHWC with `outputChannels` (≥ `inputChannels`; the padding is zeros).
public struct CUDANormalizeInputStep: Sendable, Equatable {
    public let input: CUDATensorID
    public let output: CUDATensorID
    public let inputChannels: Int
    public let outputChannels: Int
    public let scale: [Float]
    public let shift: [Float]
}

/// float32 NCHW input → the compute type in NHWC with `outputChannels` (zero padding past the input's).
public struct CUDAInputLayoutStep: Sendable, Equatable {
    public let input: CUDATensorID
    public let output: CUDATensorID
    public let inputChannels: Int
    public let outputChannels: Int
}

/// One operation of the forward pass.
public struct CUDAStep: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case normalizeInput(CUDANormalizeInputStep)
        case inputLayout(CUDAInputLayoutStep)
        case convolution(CUDAConvolutionStep)
        case pooling(CUDAPoolingStep)
        case matmul(CUDAMatmulStep)
        case activation(CUDAActivationStep)
        case scaleShift(CUDAScaleShiftStep)
        case binary(CUDABinaryStep)
        case concat(CUDAConcatStep)
        case softmax(CUDASoftmaxStep)
        case transpose(CUDATransposeStep)
        case convert(CUDAConvertStep)
    }

    /// The graph node it implements ("input" for the input step).
    public let layer: String
    public let kind: Kind

    public var kindName: String {
        switch kind {
        case .normalizeInput: "normalize_input"
        case .inputLayout: "input_layout"
        case .convolution: "conv"
        case .pooling(let p): p.isGlobal ? "global_avg_pool" : (p.mode == .max ? "max_pool" : "avg_pool")
        case .matmul: "matmul"
        case .activation: "activation"
        case .scaleShift: "scale_shift"
        case .binary(let b): b.kind.rawValue
        case .concat: "concat"
        case .softmax: "softmax"
        case .transpose: "transpose"
        case .convert: "convert"
        }
    }

    /// The tensors the step reads.
    public var reads: [CUDATensorID] {
        switch kind {
        case .normalizeInput(let s): [s.input]
        case .inputLayout(let s): [s.input]
        case .convolution(let s): [s.input] + (s.residual.map { [$0] } ?? [])
        case .pooling(let s): [s.input]
        case .matmul(let s): [s.input]
        case .activation(let s): [s.input]
        case .scaleShift(let s): [s.input]
        case .binary(let s):
            if case .tensor(let b) = s.b { [s.a, b] } else { [s.a] }
        case .concat(let s): s.inputs
        case .softmax(let s): [s.input]
        case .transpose(let s): [s.input]
        case .convert(let s): [s.input]
        }
    }

    /// The tensor the step writes.
    public var writes: CUDATensorID {
        switch kind {
        case .normalizeInput(let s): s.output
        case .inputLayout(let s): s.output
        case .convolution(let s): s.output
        case .pooling(let s): s.output
        case .matmul(let s): s.output
        case .activation(let s): s.output
        case .scaleShift(let s): s.output
        case .binary(let s): s.output
        case .concat(let s): s.output
        case .softmax(let s): s.output
        case .transpose(let s): s.output
        case .convert(let s): s.output
        }
    }
}

/// An argument of a kernel launch; the executor resolves tensors and weights to device addresses.
public enum CUDAKernelArgument: Sendable, Equatable {
    case tensor(CUDATensorID)
    case weight(CUDAWeightID)
    case int32(Int32)
    case int64(Int64)
    case float32(Float)
}

/// One launch of a Sluice kernel (cuLaunchKernel), arguments in the entry point's parameter order.
public struct CUDAKernelLaunch: Sendable, Equatable {
    public let kernel: String
    public let grid: [Int]
    public let block: [Int]
    public let sharedMemoryBytes: Int
    public let arguments: [CUDAKernelArgument]
}

/// One piece of device work a forward pass records into its CUDA graph, in order.
public struct CUDALaunch: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case kernel(CUDAKernelLaunch)
        /// cudnnConvolutionBiasActivationForward of the step.
        case cudnnConvolution
        /// cudnnPoolingForward of the step.
        case cudnnPooling
        /// cublasLtMatmul of the step.
        case cublasLtMatmul
    }

    /// Index into `CUDAPlan.steps`.
    public let step: Int
    public let kind: Kind

    public var description: String {
        switch kind {
        case .kernel(let k): "kernel \(k.kernel)"
        case .cudnnConvolution: "cudnnConvolutionBiasActivationForward"
        case .cudnnPooling: "cudnnPoolingForward"
        case .cublasLtMatmul: "cublasLtMatmul"
        }
    }
}
