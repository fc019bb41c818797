/// Turns `add(conv(x), r)` into one convolution whose result accumulates onto `r` (oneDNN's sum post-op),
/// when the convolution's result feeds only the add and `r` is computed before the convolution runs.
public enum FuseResidualAdd {
    public static func apply(_ graph: inout Graph) {
        var index = 0
        while index < graph.nodes.count {
            defer { index += 1 }
            guard case .add = graph.nodes[index].operation else { continue }
            let producers = graph.producers()
            let consumers = graph.consumers()
            let operands = graph.nodes[index].inputs
            // Prefer the convolution that runs last: its residual is then surely ready.
            let candidates = [0, 1].compactMap { side -> (side: Int, node: Int)? in
                guard let p = producers[operands[side]] else { return nil }
                return (side, p)
            }.sorted { $0.node > $1.node }
            for candidate in candidates {
                let residual = operands[1 - candidate.side]
                guard case .conv2d(var conv) = graph.nodes[candidate.node].operation,
                      !conv.addsResidual, conv.activation == nil,
                      consumers[operands[candidate.side]]?.count == 1,
                      operands[0] != operands[1],
                      (producers[residual].map { $0 < candidate.node } ?? true)
                else { continue }
                conv.addsResidual = true
                graph.nodes[candidate.node].operation = .conv2d(conv)
                graph.nodes[candidate.node].inputs.append(residual)
                graph.nodes[candidate.node].output = graph.nodes[index].output
                graph.nodes.remove(at: index)
                index -= 1
                break
            }
        }
    }
}
