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
        let values = try weight.floats()
        let outputs = weight.shape[0]
        let perOutput = outputs > 0 ? values.count / outputs : 0
        let storage = try TensorStorage(zeroedByteCount: values.count)
        // Invariant: storage holds values.count bytes.
        let target = storage.bytes.assumingMemoryBound(to: Int8.self)
        var scales = [Float](repeating: 1, count: outputs)
        for o in 0..<outputs {
            let range = (o * perOutput)..<((o + 1) * perOutput)
            let largest = values[range].reduce(Float(0)) { max($0, abs($1)) }
            let scale: Float = largest > 0 ? 127 / largest : 1
            scales[o] = scale
            for i in range { target[i] = Int8(clamping: Int((values[i] * scale).rounded())) }
        }
        return (try Tensor(shape: weight.shape, dtype: .int8, storage: storage), scales)
    }

    /// Types and scales for every value of an optimised graph.
    static func plan(_ graph: Graph, maxAbs: [ValueID: Float], inputMaxAbs: Float) throws -> [ValueID: ActivationQuantization] {
        func make(_ type: ElementType, _ largest: Float?) -> ActivationQuantization {
            let m = largest ?? 0
            return ActivationQuantization(type: type, scale: m > 0 ? (type == .u8 ? 255 : 127) / m : 1)
        }
        var result: [ValueID: ActivationQuantization] = [graph.input: make(.s8, inputMaxAbs)]
        for node in graph.nodes {
            switch node.operation {
            case .conv2d(let conv):
                let type: ElementType
                if conv.activation == .relu {
                    type = .u8
                } else if case .clip(let lower, _) = conv.activation, lower >= 0 {
                    type = .u8
                } else {
                    type = .s8
                }
                result[node.output] = make(type, maxAbs[node.output])
            case .pool, .globalAveragePool, .flatten:
                result[node.output] = result[node.inputs[0]]
            case .linear(let linear):
                if node.output != graph.output {
                    result[node.output] = make(linear.activation == .relu ? .u8 : .s8, maxAbs[node.output])
                }
            default:
                throw InferenceError(.unsupported, "int8: \(node.operation.kindName) (\(node.name)) is not supported unfused; use fp32 or bf16")
            }
        }
        return result
    }
}
