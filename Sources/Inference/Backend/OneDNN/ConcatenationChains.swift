/// DenseNet concatenates every earlier feature map of a block again for each layer: layer k's concatenation
/// joins x0, f1, …, f(k−1), and layer k+1's the same sources and f(k). Reading the previous concatenation
/// instead of its sources copies the same bytes in two pieces per pixel rather than one per source: in
/// channels-last int8 a source is 32 bytes per pixel, and a concatenation of 24 of them ran at a fraction of
/// memory speed.
enum ConcatenationChains {
    static func apply(_ graph: Graph) -> Graph {
        var result = graph
        var earlier: [(sources: [ValueID], output: ValueID, axis: Int)] = []
        for index in result.nodes.indices {
            guard case .concat(let axis) = result.nodes[index].operation else { continue }
            let sources = result.nodes[index].inputs
            let prefix = earlier.filter { $0.axis == axis && $0.sources.count >= 2 && $0.sources.count < sources.count
                && Array(sources.prefix($0.sources.count)) == $0.sources }
                .max { $0.sources.count < $1.sources.count }
            if let prefix {
                result.nodes[index].inputs = [prefix.output] + sources.dropFirst(prefix.sources.count)
            }
            earlier.append((sources, result.nodes[index].output, axis))
        }
        return result
    }
}
