/// Drops nodes whose results never reach the graph's output.
public enum EliminateDeadNodes {
    public static func apply(_ graph: inout Graph) {
        var live: Set<ValueID> = [graph.output]
        var keep = [Bool](repeating: false, count: graph.nodes.count)
        for index in graph.nodes.indices.reversed() where live.contains(graph.nodes[index].output) {
            keep[index] = true
            live.formUnion(graph.nodes[index].inputs)
        }
        graph.nodes = graph.nodes.indices.filter { keep[$0] }.map { graph.nodes[$0] }
    }
}

/// The passes every backend runs before compiling, in order.
public enum GraphOptimizer {
    public static func optimize(_ graph: Graph) throws -> Graph {
        var graph = graph
        EliminateDeadNodes.apply(&graph)
        try FoldBatchNorm.apply(&graph)
        FuseSwish.apply(&graph)
        FuseResidualAdd.apply(&graph)
        FuseActivation.apply(&graph)
        _ = try graph.inferShapes()
        return graph
    }
}
