/// Moves a ReLU or clip into the convolution or linear layer before it (oneDNN's eltwise post-op), when
/// that layer's result feeds only the activation.
public enum FuseActivation {
    public static func apply(_ graph: inout Graph) {
        var index = 0
        while index < graph.nodes.count {
            defer { index += 1 }
            guard case .activation(let activation) = graph.nodes[index].operation,
                  let producer = graph.producers()[graph.nodes[index].inputs[0]],
                  graph.consumers()[graph.nodes[producer].output]?.count == 1,
                  graph.nodes[producer].output != graph.output
            else { continue }
            switch graph.nodes[producer].operation {
            case .conv2d(var conv) where conv.activation == nil:
                conv.activation = activation
                graph.nodes[producer].operation = .conv2d(conv)
            case .linear(var linear) where linear.activation == nil:
                linear.activation = activation
                graph.nodes[producer].operation = .linear(linear)
            default:
                continue
            }
            graph.nodes[producer].output = graph.nodes[index].output
            graph.nodes.remove(at: index)
            index -= 1
        }
    }
}
