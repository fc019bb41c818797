/// A value flowing between nodes: the graph input or a node's output.
public struct ValueID: Hashable, Sendable, CustomStringConvertible {
    public let index: Int
    public var description: String { "%\(index)" }
}

public struct Node: Sendable {
    public var name: String
    public var operation: Operation
    public var inputs: [ValueID]
    public var output: ValueID
}

/// A CNN classifier as a list of nodes in execution order, from one input batch to one output.
/// Shapes are per sample (no batch dimension): the input is [C, H, W].
public struct Graph: Sendable {
    public let input: ValueID
    public let inputShape: [Int]
    public var nodes: [Node] = []
    public var output: ValueID
    private var nextValue = 1

    public init(inputShape: [Int]) {
        input = ValueID(index: 0)
        output = input
        self.inputShape = inputShape
    }

    /// Appends a node; its output becomes the graph's output.
    @discardableResult
    public mutating func add(_ operation: Operation, _ inputs: [ValueID], name: String) -> ValueID {
        let value = ValueID(index: nextValue)
        nextValue += 1
        nodes.append(Node(name: name, operation: operation, inputs: inputs, output: value))
        output = value
        return value
    }

    /// For every value, the indices of the nodes that read it.
    public func consumers() -> [ValueID: [Int]] {
        var result: [ValueID: [Int]] = [:]
        for (index, node) in nodes.enumerated() {
            for input in node.inputs { result[input, default: []].append(index) }
        }
        return result
    }

    /// Index of the node producing each value.
    public func producers() -> [ValueID: Int] {
        var result: [ValueID: Int] = [:]
        for (index, node) in nodes.enumerated() { result[node.output] = index }
        return result
    }

    /// Per-sample shapes of every value, checking each node's inputs and parameters.
    public func inferShapes() throws -> [ValueID: [Int]] {
        var shapes: [ValueID: [Int]] = [input: inputShape]
        for node in nodes {
            var inputShapes: [[Int]] = []
            for input in node.inputs {
                guard let shape = shapes[input] else {
                    throw InferenceError(.invalidGraph, "node \(node.name) reads \(input) before it is computed")
                }
                inputShapes.append(shape)
            }
            shapes[node.output] = try ShapeInference.output(of: node, inputs: inputShapes)
        }
        return shapes
    }

    /// One line per node, for logs and tests.
    public var summary: String {
        nodes.map { node in
            var line = "\(node.output) = \(node.operation.kindName)(\(node.inputs.map(\.description).joined(separator: ", ")))"
            if case .conv2d(let c) = node.operation {
                if c.addsResidual { line += " +sum" }
                if let a = c.activation { line += " +\(a)" }
            }
            if case .linear(let l) = node.operation, let a = l.activation { line += " +\(a)" }
            return line + "  # \(node.name)"
        }.joined(separator: "\n")
    }
}
