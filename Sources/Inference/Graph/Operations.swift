/// The operations of Sluice's graph IR for CNN classifiers. Parameters are float32 tensors in PyTorch's
/// layouts (convolution weights [O, I/groups, kh, kw], linear weights [O, I]).

public enum Activation: Sendable, Equatable {
    case relu
    /// min(max(x, lower), upper); ReLU6 is clip(0, 6).
    case clip(lower: Float, upper: Float)
}

public struct Conv2D: Sendable {
    public var weight: Tensor
    public var bias: Tensor?
    public var stride: [Int]
    public var padding: [Int]
    public var dilation: [Int]
    public var groups: Int
    /// Fused by a graph pass: the node's second input is added to the convolution's result (oneDNN's
    /// `sum` post-op), before `activation`.
    public var addsResidual: Bool = false
    /// Fused by a graph pass: applied to the result (oneDNN's eltwise post-op).
    public var activation: Activation?

    public var outChannels: Int { weight.shape[0] }
    public var kernel: [Int] { [weight.shape[2], weight.shape[3]] }

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

    public var kindName: String {
        switch self {
        case .conv2d: "conv2d"
        case .batchNorm: "batch_norm"
        case .activation(.relu): "relu"
        case .activation(.clip): "clip"
        case .pool(let p): p.kind == .max ? "max_pool" : "avg_pool"
        case .globalAveragePool: "global_avg_pool"
        case .add: "add"
        case .flatten: "flatten"
        case .linear: "linear"
        case .softmax: "softmax"
        }
    }
}
