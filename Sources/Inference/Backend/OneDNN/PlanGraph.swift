/// The graph a plan computes, rewritten from the optimised graph for oneDNN's kernels. Its values are the
/// optimised graph's, less those of the batch norms and activations it fused.
enum PlanGraph {
    /// Every batch norm left after folding (DenseNet's, after each concatenation, followed by a ReLU) as a
    /// depthwise 1×1 convolution with the activation that alone reads it fused: in int8 it then reads and
    /// writes int8 (oneDNN's batch norm takes no int8 output scale), in bf16 it is one pass instead of two
    /// (DenseNet-121 bf16: 13% more images/s here). A batch norm whose parameters do not describe one channel
    /// each, or of a flattened value or a 1×1 image, stays as it is. Concatenations that repeat an earlier
    /// one's sources read it instead (`ConcatenationChains`).
    static func lowered(_ graph: Graph) -> Graph {
        var result = withoutSingleConcatenations(ConcatenationChains.apply(graph))
        guard let shapes = try? result.inferShapes() else { return result }
        var index = 0
        while index < result.nodes.count {
            defer { index += 1 }
            // Only on images of more than one pixel: int8 keeps layers on 1×1 images in float32 (see
            // `Quantizer.floatLayers`), and a batch norm of a flattened value is no convolution.
            guard case .batchNorm(let bn) = result.nodes[index].operation,
                  let shape = shapes[result.nodes[index].inputs[0]], shape.count == 3, shape[1] * shape[2] > 1,
                  var conv = try? depthwiseConvolution(bn), conv.outChannels == shape[0] else { continue }
            let output = result.nodes[index].output
            let readers = result.consumers()[output] ?? []
            if output != result.output, readers.count == 1, readers[0] > index,
               case .activation(let activation) = result.nodes[readers[0]].operation {
                conv.activation = activation
                result.nodes[index].output = result.nodes[readers[0]].output
                result.nodes.remove(at: readers[0])
            }
            result.nodes[index].operation = .conv2d(conv)
        }
        return result
    }

    /// Inference batch-norm as a depthwise 1×1 convolution: weight s = gamma / sqrt(var + eps) and
    /// bias beta − mean·s per channel (in double precision, rounded once).
    static func depthwiseConvolution(_ bn: BatchNorm) throws -> Conv2D {
        let gamma = try bn.weight.floats(), beta = try bn.bias.floats()
        let mean = try bn.mean.floats(), variance = try bn.variance.floats()
        let channels = gamma.count
        guard channels > 0, [beta.count, mean.count, variance.count].allSatisfy({ $0 == channels }) else {
            throw InferenceError(.shapeMismatch, "batch-norm parameters of \([gamma.count, beta.count, mean.count, variance.count]) channels")
        }
        var weight = [Float](repeating: 0, count: channels), bias = weight
        for c in 0..<channels {
            let scale = Double(gamma[c]) / (Double(variance[c]) + Double(bn.epsilon)).squareRoot()
            weight[c] = Float(scale)
            bias[c] = Float(Double(beta[c]) - Double(mean[c]) * scale)
        }
        return Conv2D(weight: try Tensor(shape: [channels, 1, 1, 1], values: weight),
                      bias: try Tensor(shape: [channels], values: bias), groups: channels)
    }

    /// A concatenation of one source (DenseNet's first layer of each block) is a copy: its readers read the
    /// source instead.
    static func withoutSingleConcatenations(_ graph: Graph) -> Graph {
        var result = graph
        var renamed: [ValueID: ValueID] = [:]
        result.nodes = graph.nodes.compactMap { node in
            var node = node
            node.inputs = node.inputs.map { renamed[$0] ?? $0 }
            if case .concat = node.operation, node.inputs.count == 1, node.output != graph.output {
                renamed[node.output] = node.inputs[0]
                return nil
            }
            return node
        }
        return result
    }
}
