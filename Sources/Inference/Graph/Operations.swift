/// The operations of Sluice's graph IR for CNN classifiers. Parameters are float32 tensors in PyTorch's
/// layouts (convolution weights [O, I/groups, kh, kw], linear weights [O, I]).

public enum Activation: Sendable, Equatable {
    case relu
    /// min(max(x, lower), upper); ReLU6 is clip(0, 6).
    case clip(lower: Float, upper: Float)
    /// x for x ≥ 0, alpha·x below.
    case leakyRelu(alpha: Float)
    /// 1 / (1 + e^−x).
    case sigmoid
    /// max(0, min(1, alpha·x + beta)).
    case hardSigmoid(alpha: Float, beta: Float)
    /// x · max(0, min(1, x/6 + 1/2)).
    case hardSwish
    /// x · sigmoid(x) (SiLU).
    case swish

    /// Whether int8 plans can apply it to quantized values (its bounds scale with the values).
    var isPiecewiseLinearThroughZero: Bool {
        switch self {
        case .relu, .clip, .leakyRelu: true
        default: false
        }
    }
}

/// Elementwise arithmetic; the second operand broadcasts (NumPy rules) to the first's shape.
public enum BinaryKind: String, Sendable, Equatable {
    case add, sub, mul, div
}

public struct Binary: Sendable {
    public var kind: BinaryKind
    /// The second operand when it is a parameter (per-sample shape, broadcast over the batch); the node
    /// then has one input.
    public var constant: Tensor?

    public init(_ kind: BinaryKind, constant: Tensor? = nil) {
        self.kind = kind
        self.constant = constant
    }
}

public struct Conv2D: Sendable {
    public var weight: Tensor
    public var bias: Tensor?
    public var stride: [Int]
    public var padding: [Int]
    /// Padding after the input on each axis, where it differs from `padding` (ONNX `pads`, `auto_pad`).
    public var paddingEnd: [Int]?
    public var dilation: [Int]
    public var groups: Int
    /// Fused by a graph pass: the node's second input is added to the convolution's result (oneDNN's
    /// `sum` post-op), before `activation`.
    public var addsResidual: Bool = false
    /// Fused by a graph pass: applied to the result (oneDNN's eltwise post-op).
    public var activation: Activation?

    public var outChannels: Int { weight.shape[0] }
    public var kernel: [Int] { [weight.shape[2], weight.shape[3]] }
    public var trailingPadding: [Int] { paddingEnd ?? padding }

    public init(weight: Tensor, bias: Tensor? = nil, stride: [Int] = [1, 1], padding: [Int] = [0, 0],
                dilation: [Int] = [1, 1], groups: Int = 1) {
        self.weight = weight
        self.bias = bias
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }
}

/// Inference batch-norm: (x - mean) / sqrt(variance + epsilon) * weight + bias, per channel.
public struct BatchNorm: Sendable {
    public var weight: Tensor
    public var bias: Tensor
    public var mean: Tensor
    public var variance: Tensor
    public var epsilon: Float

    public init(weight: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, epsilon: Float = 1e-5) {
        self.weight = weight
        self.bias = bias
        self.mean = mean
        self.variance = variance
        self.epsilon = epsilon
    }
}

public struct Pool2D: Sendable {
    public enum Kind: Sendable, Equatable { case max, average }
    public var kind: Kind
    public var kernel: [Int]
    public var stride: [Int]
    public var padding: [Int]
    public var dilation: [Int]
    public var ceilMode: Bool
    /// Average pooling only: whether padded positions count in the divisor (PyTorch's default: true).
    public var countIncludesPadding: Bool

    public init(kind: Kind, kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0, 0], dilation: [Int] = [1, 1],
                ceilMode: Bool = false, countIncludesPadding: Bool = true) {
        self.kind = kind
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
        self.dilation = dilation
        self.ceilMode = ceilMode
        self.countIncludesPadding = countIncludesPadding
    }
}

public struct Linear: Sendable {
    public var weight: Tensor
    public var bias: Tensor?
    public var activation: Activation?

    public init(weight: Tensor, bias: Tensor? = nil) {
        self.weight = weight
        self.bias = bias
    }
}

public enum Operation: Sendable {
    case conv2d(Conv2D)
    case batchNorm(BatchNorm)
    case activation(Activation)
    case pool(Pool2D)
    case globalAveragePool
    /// Elementwise sum of two tensors of the same shape.
    case add
    /// [C, H, W] → [C·H·W].
    case flatten
    case linear(Linear)
    /// Softmax over the last axis.
    case softmax
    /// Elementwise arithmetic with broadcasting of the second operand.
    case binary(Binary)
    /// Concatenation of every input along a per-sample axis (0 is the first axis after the batch).
    case concat(axis: Int)
    /// The same elements with another per-sample shape.
    case reshape([Int])

    public var kindName: String {
        switch self {
        case .conv2d: "conv2d"
        case .batchNorm: "batch_norm"
        case .activation(.relu): "relu"
        case .activation(.clip): "clip"
        case .activation(.leakyRelu): "leaky_relu"
        case .activation(.sigmoid): "sigmoid"
        case .activation(.hardSigmoid): "hard_sigmoid"
        case .activation(.hardSwish): "hard_swish"
        case .activation(.swish): "swish"
        case .pool(let p): p.kind == .max ? "max_pool" : "avg_pool"
        case .globalAveragePool: "global_avg_pool"
        case .add: "add"
        case .flatten: "flatten"
        case .linear: "linear"
        case .softmax: "softmax"
        case .binary(let b): b.kind.rawValue
        case .concat: "concat"
        case .reshape: "reshape"
        }
    }
}
