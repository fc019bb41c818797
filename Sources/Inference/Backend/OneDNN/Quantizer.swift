import CDNNLShim

/// An activation's int8 representation: quantized = round(real × scale), in `type` (s8 or u8).
struct ActivationQuantization: Sendable {
    let type: ElementType
    let scale: Float
}

/// Post-training int8 quantization: symmetric per-output-channel weights, and per-tensor activation scales
/// from the largest magnitude each value reached on calibration samples (u8 where the value cannot be
/// negative: after a ReLU; s8 elsewhere).
enum Quantizer {
    /// Weights [O, ...] as int8 with one scale per output channel (127 / max |w|).
    static func quantizeWeights(_ weight: Tensor) throws -> (Tensor, [Float]) {
        let source = try weight.asFloat32()
        let outputs = weight.shape.first ?? 0
        let count = weight.shape.reduce(1, *)
        let perOutput = outputs > 0 ? count / outputs : 0
        let storage = try TensorStorage(zeroedByteCount: count)
        var scales = [Float](repeating: 1, count: outputs)
        try source.withFloats { floats in
            guard floats.count == count else {
                throw InferenceError(.shapeMismatch, "weights of \(floats.count) values for shape \(weight.shape)")
            }
            // Invariant: storage holds `count` bytes.
            sldnn_quantize_rows(floats.baseAddress, outputs, perOutput, storage.bytes.assumingMemoryBound(to: Int8.self), &scales)
        }
        return (try Tensor(shape: weight.shape, dtype: .int8, storage: storage), scales)
    }

    /// Types and scales for every value of an optimised graph, and which values stay int8 between layers.
    /// The plan computes `PlanGraph.lowered(graph)`: batch norms that could not be folded become (int8)
    /// depthwise convolutions. Values joined by concatenations kept in int8 (with the pass-throughs between them) share
    /// one scale, the union of their calibrated ranges, so that the concatenation is a plain int8 copy.
    static func plan(_ graph: Graph, ranges: [ValueID: ValueRange], inputRange: ValueRange,
                     floatLayers: Set<ValueID> = []) -> Int8Plan {
        let lowered = PlanGraph.lowered(graph)
        let stored = storedInt8(lowered, floatLayers: floatLayers)
        var groups = ValueGroups()
        for node in lowered.nodes where stored.contains(node.output) {
            if node.operation.passesInt8Through { groups.join(node.output, node.inputs[0]) }
            if case .concat = node.operation { for input in node.inputs { groups.join(node.output, input) } }
        }
        var groupRanges: [ValueID: ValueRange] = [:]
        for node in lowered.nodes {
            let range = ranges[node.output] ?? ValueRange(), root = groups.root(of: node.output)
            groupRanges[root] = groupRanges[root].map { $0.union(range) } ?? range
        }
        var quantization: [ValueID: ActivationQuantization] = [graph.input: ActivationQuantization(inputRange)]
        for node in lowered.nodes {
            quantization[node.output] = ActivationQuantization(groupRanges[groups.root(of: node.output)] ?? ValueRange())
        }
        return Int8Plan(graph: lowered, quantization: quantization, storedInt8: stored, floatLayers: floatLayers)
    }

    /// The layer that computes the graph's output (the classifier), kept in float32: its logits are what
    /// top-1 compares, and quantising its input moved top-1 on seeded torchvision models far more than any
    /// other layer (EfficientNet-B0: 3 of 20 inputs agreed with it in int8, 15 with it in float32), for
    /// under 1% of a CNN's operations.
    static func classifierLayers(_ graph: Graph) -> Set<ValueID> {
        // Back from the output through what follows the classifier (softmax, reshape...).
        let producers = graph.producers()
        var value = graph.output
        while let index = producers[value] {
            let node = graph.nodes[index]
            switch node.operation {
            case .conv2d, .linear: return [node.output]
            default:
                guard node.inputs.count == 1 else { return [] }
                value = node.inputs[0]
            }
        }
        return []
    }

    /// Layers kept in float32: the classifier, and convolutions on a 1×1 image (squeeze-and-excitation):
    /// a few thousand operations per sample, whose errors would scale whole feature maps.
    static func floatLayers(_ graph: Graph) throws -> Set<ValueID> {
        let shapes = try graph.inferShapes()
        var result = classifierLayers(graph)
        for node in graph.nodes {
            if case .conv2d = node.operation, let shape = shapes[node.output], shape.count == 3, shape[1] * shape[2] == 1 {
                result.insert(node.output)
            }
        }
        return result
    }

    /// The values that are int8 in memory: results of convolutions and linear layers (and of pooling,
    /// flatten, reshape and concatenation of such values) whose every consumer reads int8 — a convolution,
    /// a linear layer, or a pass-through or concatenation whose own result stays int8. The largest such set
    /// (start from every candidate and drop those a consumer or producer rules out until nothing changes).
    static func storedInt8(_ graph: Graph, floatLayers: Set<ValueID>) -> Set<ValueID> {
        func int8Layer(_ node: Node) -> Bool {
            switch node.operation {
            case .conv2d, .linear: !floatLayers.contains(node.output)
            default: false
            }
        }
        let consumers = graph.consumers()
        var stored = Set<ValueID>()
        for node in graph.nodes where node.output != graph.output {
            if int8Layer(node) || node.operation.carriesInt8 { stored.insert(node.output) }
        }
        var changed = true
        while changed {
            changed = false
            for node in graph.nodes where stored.contains(node.output) {
                var keep = !node.operation.carriesInt8 || node.inputs.allSatisfy(stored.contains)
                for index in consumers[node.output] ?? [] where keep {
                    let consumer = graph.nodes[index]
                    if !int8Layer(consumer) {
                        keep = consumer.operation.carriesInt8 && stored.contains(consumer.output)
                    }
                }
                if !keep {
                    stored.remove(node.output)
                    changed = true
                }
            }
        }
        return stored
    }
}

/// Disjoint sets of values (union–find): the values that must share one int8 scale.
struct ValueGroups {
    private var parent: [ValueID: ValueID] = [:]

    mutating func root(of value: ValueID) -> ValueID {
        var current = value
        while let next = parent[current], next != current { current = next }
        var step = value
        while let next = parent[step], next != current {
            parent[step] = current
            step = next
        }
        return current
    }

    mutating func join(_ a: ValueID, _ b: ValueID) {
        let ra = root(of: a), rb = root(of: b)
        if ra != rb { parent[ra] = rb }
    }
}

/// The smallest and largest value a tensor reached on the calibration samples.
struct ValueRange: Sendable {
    var lower: Float = 0
    var upper: Float = 0

    func union(_ other: ValueRange) -> ValueRange {
        ValueRange(lower: min(lower, other.lower), upper: max(upper, other.upper))
    }
}

extension ActivationQuantization {
    /// u8 for a value that was never negative, s8 otherwise; the range's extreme maps to 255 or 127.
    init(_ range: ValueRange) {
        if range.lower >= 0 {
            self.init(type: .u8, scale: range.upper > 0 ? 255 / range.upper : 1)
        } else {
            let largest = max(-range.lower, range.upper)
            self.init(type: .s8, scale: largest > 0 ? 127 / largest : 1)
        }
    }
}

/// An int8 plan: every value's int8 representation (what an int8 consumer reads), and the values kept in it
/// between layers. The others are float32: their producers compute in float32 or dequantise on output, and
/// each int8 consumer quantises them on the way in (a reorder with a scale, made once per value).
struct Int8Plan: Sendable {
    /// The graph the plan computes (see `PlanGraph.lowered`): its values are the original graph's, less
    /// those of the batch norms and activations it fused.
    let graph: Graph
    let quantization: [ValueID: ActivationQuantization]
    let storedInt8: Set<ValueID>
    /// Convolutions and linear layers (by result) that compute in float32.
    let floatLayers: Set<ValueID>
}

extension Operation {
    /// Operations that compute on int8 values in their input's scale.
    var passesInt8Through: Bool {
        switch self {
        case .pool, .globalAveragePool, .flatten, .reshape: true
        default: false
        }
    }

    /// Operations an int8 plan can keep in int8 between int8 values: pass-throughs, and concatenations
    /// (whose sources share the result's scale).
    var carriesInt8: Bool {
        if case .concat = self { return true }
        return passesInt8Through
    }
}

/// Thrown while lowering an int8 plan: oneDNN has no int8 kernel it can generate for this layer (by result);
/// the model then computes it in float32.
struct Int8LayerUnavailable: Error {
    let layer: ValueID
}
