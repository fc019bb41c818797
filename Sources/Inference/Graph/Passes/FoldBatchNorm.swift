/// Folds an inference batch-norm into the convolution before it: w' = w·s, b' = (b − mean)·s + beta with
/// s = gamma / sqrt(var + eps) per output channel, computed in double precision and rounded once.
public enum FoldBatchNorm {
    public static func apply(_ graph: inout Graph) throws {
        var index = 0
        while index < graph.nodes.count {
            defer { index += 1 }
            guard case .batchNorm(let bn) = graph.nodes[index].operation,
                  let producer = graph.producers()[graph.nodes[index].inputs[0]],
                  case .conv2d(var conv) = graph.nodes[producer].operation,
                  !conv.addsResidual, conv.activation == nil,
                  graph.consumers()[graph.nodes[producer].output]?.count == 1,
                  graph.nodes[producer].output != graph.output
            else { continue }
            try fold(bn, into: &conv)
            graph.nodes[producer].operation = .conv2d(conv)
            graph.nodes[producer].output = graph.nodes[index].output
            graph.nodes.remove(at: index)
            index -= 1
        }
    }

    static func fold(_ bn: BatchNorm, into conv: inout Conv2D) throws {
        let channels = conv.outChannels
        let gamma = try bn.weight.floats(), beta = try bn.bias.floats()
        let mean = try bn.mean.floats(), variance = try bn.variance.floats()
        guard [gamma.count, beta.count, mean.count, variance.count].allSatisfy({ $0 == channels }) else {
            throw InferenceError(.shapeMismatch, "batch-norm of \(gamma.count) channels after a convolution of \(channels)")
        }
        let oldBias = try conv.bias?.floats() ?? [Float](repeating: 0, count: channels)
        var weights = try conv.weight.floats()
        let perChannel = weights.count / channels
        var bias = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            let scale = Double(gamma[c]) / (Double(variance[c]) + Double(bn.epsilon)).squareRoot()
            for i in c * perChannel..<(c + 1) * perChannel { weights[i] = Float(Double(weights[i]) * scale) }
            bias[c] = Float((Double(oldBias[c]) - Double(mean[c])) * scale + Double(beta[c]))
        }
        conv.weight = try Tensor(shape: conv.weight.shape, values: weights)
        conv.bias = try Tensor(shape: [channels], values: bias)
    }
}
