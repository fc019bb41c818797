/// torchvision's ResNets (v1.5: the stride of a bottleneck block is on its 3×3 convolution), built from a
/// weight source that uses torchvision's state_dict key names (`conv1.weight`, `layer1.0.bn2.running_var`,
/// `fc.bias`...).
public enum ResNet {
    public enum Variant: String, Sendable, CaseIterable {
        case resnet18, resnet34, resnet50, resnet101, resnet152

        public var usesBottleneck: Bool { self == .resnet50 || self == .resnet101 || self == .resnet152 }

        public var blocksPerStage: [Int] {
            switch self {
            case .resnet18: [2, 2, 2, 2]
            case .resnet34, .resnet50: [3, 4, 6, 3]
            case .resnet101: [3, 4, 23, 3]
            case .resnet152: [3, 8, 36, 3]
            }
        }

        /// Multiply-adds per 224×224 image (convolutions and the classifier), as commonly quoted.
        public var multiplyAddsPerImage: Double {
            switch self {
            case .resnet18: 1.82e9
            case .resnet34: 3.67e9
            case .resnet50: 4.09e9
            case .resnet101: 7.80e9
            case .resnet152: 11.51e9
            }
        }
    }

    /// The model's graph for [3, inputSize, inputSize] inputs and `classes` outputs (logits).
    public static func build(_ variant: Variant, weights: any WeightSource, classes: Int = 1000,
                             inputSize: Int = 224) throws -> Graph {
        var builder = Builder(weights: weights, graph: Graph(inputShape: [3, inputSize, inputSize]))
        var x = builder.graph.input
        x = try builder.convBN(x, prefix: "", conv: "conv1", bn: "bn1", in: 3, out: 64, kernel: 7, stride: 2, padding: 3)
        x = builder.graph.add(.activation(.relu), [x], name: "relu")
        x = builder.graph.add(.pool(Pool2D(kind: .max, kernel: [3, 3], stride: [2, 2], padding: [1, 1])), [x], name: "maxpool")
        let expansion = variant.usesBottleneck ? 4 : 1
        var channels = 64
        for (stage, blocks) in variant.blocksPerStage.enumerated() {
            let planes = 64 << stage
            for block in 0..<blocks {
                let stride = (stage > 0 && block == 0) ? 2 : 1
                let prefix = "layer\(stage + 1).\(block)."
                x = try variant.usesBottleneck
                    ? builder.bottleneck(x, prefix: prefix, in: channels, planes: planes, stride: stride)
                    : builder.basicBlock(x, prefix: prefix, in: channels, planes: planes, stride: stride)
                channels = planes * expansion
            }
        }
        x = builder.graph.add(.globalAveragePool, [x], name: "avgpool")
        x = builder.graph.add(.flatten, [x], name: "flatten")
        let fcWeight = try weights.tensor(named: "fc.weight", shape: [classes, channels], role: .linearWeight)
        let fcBias = try weights.tensor(named: "fc.bias", shape: [classes], role: .linearBias(fanIn: channels))
        builder.graph.add(.linear(Linear(weight: fcWeight, bias: fcBias)), [x], name: "fc")
        return builder.graph
    }

    /// The state_dict keys the model reads, with their shapes, in torchvision's order
    /// (without `num_batches_tracked`, which inference does not need).
    public static func parameterShapes(_ variant: Variant, classes: Int = 1000) throws -> [(String, [Int])] {
        let recorder = RecordingWeights()
        _ = try build(variant, weights: recorder, classes: classes, inputSize: 64)
        return recorder.recorded
    }

    struct Builder {
        let weights: any WeightSource
        var graph: Graph

        mutating func convBN(_ x: ValueID, prefix: String, conv: String, bn: String, in inputs: Int, out outputs: Int,
                             kernel: Int, stride: Int, padding: Int, endsBranch: Bool = false) throws -> ValueID {
            let weight = try weights.tensor(named: prefix + conv + ".weight", shape: [outputs, inputs, kernel, kernel],
                                            role: .convolutionWeight)
            let y = graph.add(.conv2d(Conv2D(weight: weight, stride: [stride, stride], padding: [padding, padding])),
                              [x], name: prefix + conv)
            let norm = BatchNorm(
                weight: try weights.tensor(named: prefix + bn + ".weight", shape: [outputs],
                                           role: .batchNormWeight(endsResidualBranch: endsBranch)),
                bias: try weights.tensor(named: prefix + bn + ".bias", shape: [outputs], role: .batchNormBias),
                mean: try weights.tensor(named: prefix + bn + ".running_mean", shape: [outputs], role: .batchNormMean),
                variance: try weights.tensor(named: prefix + bn + ".running_var", shape: [outputs], role: .batchNormVariance))
            return graph.add(.batchNorm(norm), [y], name: prefix + bn)
        }

        mutating func shortcut(_ x: ValueID, prefix: String, in inputs: Int, out outputs: Int, stride: Int) throws -> ValueID {
            guard stride != 1 || inputs != outputs else { return x }
            return try convBN(x, prefix: prefix, conv: "downsample.0", bn: "downsample.1", in: inputs, out: outputs,
                              kernel: 1, stride: stride, padding: 0)
        }

        mutating func basicBlock(_ x: ValueID, prefix: String, in inputs: Int, planes: Int, stride: Int) throws -> ValueID {
            // Parameters are requested in torchvision's state_dict order (branch, then downsample).
            var y = try convBN(x, prefix: prefix, conv: "conv1", bn: "bn1", in: inputs, out: planes, kernel: 3, stride: stride, padding: 1)
            y = graph.add(.activation(.relu), [y], name: prefix + "relu1")
            y = try convBN(y, prefix: prefix, conv: "conv2", bn: "bn2", in: planes, out: planes, kernel: 3, stride: 1, padding: 1,
                           endsBranch: true)
            let identity = try shortcut(x, prefix: prefix, in: inputs, out: planes, stride: stride)
            let sum = graph.add(.add, [y, identity], name: prefix + "add")
            return graph.add(.activation(.relu), [sum], name: prefix + "relu2")
        }

        mutating func bottleneck(_ x: ValueID, prefix: String, in inputs: Int, planes: Int, stride: Int) throws -> ValueID {
            var y = try convBN(x, prefix: prefix, conv: "conv1", bn: "bn1", in: inputs, out: planes, kernel: 1, stride: 1, padding: 0)
            y = graph.add(.activation(.relu), [y], name: prefix + "relu1")
            y = try convBN(y, prefix: prefix, conv: "conv2", bn: "bn2", in: planes, out: planes, kernel: 3, stride: stride, padding: 1)
            y = graph.add(.activation(.relu), [y], name: prefix + "relu2")
            y = try convBN(y, prefix: prefix, conv: "conv3", bn: "bn3", in: planes, out: planes * 4, kernel: 1, stride: 1,
                           padding: 0, endsBranch: true)
            let identity = try shortcut(x, prefix: prefix, in: inputs, out: planes * 4, stride: stride)
            let sum = graph.add(.add, [y, identity], name: prefix + "add")
            return graph.add(.activation(.relu), [sum], name: prefix + "relu3")
        }
    }
}

/// Records the parameters a builder asks for (zeros), to list a model's keys.
final class RecordingWeights: WeightSource {
    var recorded: [(String, [Int])] = []

    func tensor(named name: String, shape: [Int], role: ParameterRole) throws -> Tensor {
        recorded.append((name, shape))
        return try Tensor.zeros(shape)
    }
}
