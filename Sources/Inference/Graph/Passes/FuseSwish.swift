/// Turns `mul(x, sigmoid(x))` (SiLU as ONNX exporters write it) into one swish activation, which the next
/// pass can fuse into the convolution before it.
public enum FuseSwish {
    public static func apply(_ graph: inout Graph) {
        let producers = graph.producers()
        let consumers = graph.consumers()
        var fused = false
        for index in graph.nodes.indices {
            guard case .binary(let binary) = graph.nodes[index].operation, binary.kind == .mul, binary.constant == nil
            else { continue }
            let operands = graph.nodes[index].inputs
            for side in [0, 1] {
                guard let p = producers[operands[side]], case .activation(.sigmoid) = graph.nodes[p].operation,
                      graph.nodes[p].inputs[0] == operands[1 - side], consumers[operands[side]]?.count == 1,
                      operands[side] != graph.output
                else { continue }
                graph.nodes[index].operation = .activation(.swish)
                graph.nodes[index].inputs = [operands[1 - side]]
                fused = true
                break
            }
        }
        if fused { EliminateDeadNodes.apply(&graph) }
    }
}
